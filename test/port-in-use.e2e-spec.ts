import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from './setup/test-app';

const ROOT = path.resolve(__dirname, '..');

/** A port this test process really listens on, as another program would. */
function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ port, close: () => new Promise((done) => server.close(() => done())) });
    });
    server.on('error', reject);
  });
}

/** src/main.ts in a child process, as `npm start` runs it (compiled on the fly). */
function start(env: Record<string, string | undefined>): Promise<{ code: number; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...env };
  for (const [key, value] of Object.entries(childEnv)) {
    if (value === undefined) {
      delete childEnv[key];
    }
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      { cwd: ROOT, env: childEnv, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? -1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe('a start-up port that is in use', () => {
  let taken: Awaited<ReturnType<typeof occupy>>;
  beforeEach(async () => {
    taken = await occupy();
  });
  afterEach(() => taken.close());

  it('EMBEDDED_PG_PORT: says which port, who holds it and what to set, exit code 1', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'port-in-use-'));
    try {
      const { code, output } = await start({
        DATABASE_URL: undefined,
        EMBEDDED_PG_PORT: String(taken.port),
        EMBEDDED_PG_DIR: dataDir,
        PORT: '0',
      });
      expect(code).toBe(1);
      expect(output).toContain(
        `Cannot start the embedded PostgreSQL: port ${taken.port} on 127.0.0.1 is already in use by pid ${process.pid} (`,
      );
      expect(output).toMatch(/EMBEDDED_PG_PORT=\d+ npm start/);
      expect(output).not.toContain('Examine the log output');
      expect(output).not.toMatch(STACK_LINE);
      // Nothing was started: the check comes before initdb.
      expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('PORT: says which port, who holds it and what to set, exit code 1', async () => {
    const { code, output } = await start({
      DATABASE_URL: testDatabaseUrl(),
      RUN_MIGRATIONS: 'false',
      HOST: '127.0.0.1',
      PORT: String(taken.port),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      `Cannot listen on 127.0.0.1:${taken.port}: port ${taken.port} is already in use by pid ${process.pid} (`,
    );
    expect(output).toMatch(/PORT=\d+ npm start/);
    expect(output).not.toMatch(STACK_LINE);
    expect(output).not.toContain('EADDRINUSE');
  }, 120_000);
});
