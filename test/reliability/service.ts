import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, '.data', 'reliability');
export const LOG_DIR = path.join(WORK, 'logs');

/**
 * `nest build` (so assets are copied as nest-cli.json says) into a directory of its own: in a
 * shared working tree another build may empty dist/ while the scenarios run. The rest of the
 * repository is linked beside it, for what the service reads relative to dist/ (scripts/,
 * package.json, prisma/).
 */
export function buildService(): { main: string; built: boolean } {
  const main = path.join(WORK, 'build', 'dist', 'main.js');
  const stamp = path.join(WORK, 'build', 'inputs');
  const inputs = buildInputs();
  if (fs.existsSync(main) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === inputs) {
    return { main, built: false };
  }
  const tsconfig = path.join(WORK, 'tsconfig.build.json');
  fs.mkdirSync(path.join(WORK, 'build'), { recursive: true });
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.relative(WORK, path.join(ROOT, 'tsconfig.build.json')),
      // Build state inside the output, so that nest's deleteOutDir also forgets it.
      compilerOptions: { outDir: './build/dist', tsBuildInfoFile: './build/dist/.tsbuildinfo' },
    }),
  );
  for (const entry of fs.readdirSync(ROOT)) {
    const link = path.join(WORK, 'build', entry);
    if (['dist', '.data', '.git'].includes(entry) || fs.existsSync(link)) {
      continue;
    }
    fs.symlinkSync(path.join(ROOT, entry), link);
  }
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'),
      'build',
      '-p',
      path.relative(ROOT, tsconfig),
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  fs.writeFileSync(stamp, inputs);
  return { main, built: true };
}

/** What the build depends on, by name, size and time: when it is unchanged, so is dist. */
function buildInputs(): string {
  const files = ['package-lock.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json'];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(file);
      } else {
        files.push(file);
      }
    }
  };
  walk('src');
  return files
    .map((file) => {
      const stat = fs.statSync(path.join(ROOT, file));
      return `${file} ${stat.size} ${stat.mtimeMs}`;
    })
    .join('\n');
}

export interface RunningService {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** From spawn to the first answer of GET /health/live. */
  startMs: number;
}

const running = new Set<ChildProcess>();

/** Starts the compiled service and resolves once it answers; its output goes to LOG_DIR. */
export async function startService(
  main: string,
  name: string,
  port: number,
  env: Record<string, string>,
): Promise<RunningService> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const out = fs.openSync(path.join(LOG_DIR, `${name}.log`), 'w');
  const started = Date.now();
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  let dead = false;
  void exited.then(() => (dead = true));
  while (!(await answers(port))) {
    if (dead) {
      throw new Error(`service ${name} exited before answering; see ${LOG_DIR}/${name}.log`);
    }
    if (Date.now() - started > 60_000) {
      throw new Error(`service ${name} did not start in 60 s`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, pid: child.pid!, exited, startMs: Date.now() - started };
}

/** Kills whatever service this run started and is still running (on failure or Ctrl-C). */
export function killAll(): void {
  for (const child of running) {
    child.kill('SIGKILL');
  }
  for (const kill of groups) {
    kill();
  }
}

export function answers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/health/live', agent: false },
      (r) => {
        r.resume();
        resolve(r.statusCode === 200);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

export function readiness(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    });
    request.setTimeout(5000, () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * The README's `npm start` in this checkout, in a process group of its own as a terminal runs it,
 * until it answers; `stop()` is Ctrl-C (SIGINT to the whole group). Embedded PostgreSQL, no
 * DATABASE_URL, exactly as a user starts it.
 */
export async function npmStart(
  name: string,
  env: Record<string, string>,
): Promise<{
  startMs: number;
  stop: () => Promise<{ code: number | null; signal: string | null }>;
}> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const out = fs.openSync(path.join(LOG_DIR, `${name}.log`), 'w');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', ...env };
  delete childEnv.DATABASE_URL;
  const started = Date.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const group = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  groups.add(group);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let dead = false;
  void exited.then(() => (dead = true));
  const port = Number(env.PORT);
  while (!(await answers(port))) {
    if (dead) {
      throw new Error(`npm start (${name}) exited before answering; see ${LOG_DIR}/${name}.log`);
    }
    if (Date.now() - started > 240_000) {
      group();
      throw new Error(`npm start (${name}) did not answer in 240 s; see ${LOG_DIR}/${name}.log`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    startMs: Date.now() - started,
    stop: async () => {
      process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(group, 30_000);
      const result = await exited;
      // npm may return before the service it ran (same group) has drained and stopped PostgreSQL.
      for (;;) {
        try {
          process.kill(-child.pid!, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      clearTimeout(timer);
      groups.delete(group);
      return result;
    },
  };
}

const groups = new Set<() => void>();
