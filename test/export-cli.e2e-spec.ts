import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { runExport } from '../scripts/export';
import { afterMessage, currentSession } from './factories';
import {
  resetDatabase,
  startApp,
  testDatabaseUrl,
  waitForDerivation,
  withDb,
} from './setup/test-app';
import { get, iso, postAll } from './setup/http';

const D = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

/** Runs `npm run export -- …` in-process; its standard output and error as text. */
async function cli(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runExport(args, {
    stdout,
    stderr,
    env: { DATABASE_URL: testDatabaseUrl(), RUN_MIGRATIONS: 'false', LOG_LEVEL: 'fatal' },
  });
  return {
    code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

describe('npm run export', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    // 40 days of messages: more than one HTTP export may cover
    await postAll(app, [
      ...Array.from({ length: 40 }, (_, i) =>
        afterMessage({
          id: `m${i}`,
          sender: 'bob',
          receiver: 'carol',
          sentAt: (D + i * DAY) / 1000,
        }),
      ),
      ...currentSession('bob', 'ios', D, D + 60_000),
    ]);
    await withDb(waitForDerivation);
  });
  afterAll(() => app.close());

  it('writes what GET /export/… answers, byte for byte, to --out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'export-'));
    const out = path.join(dir, 'sessions.ndjson');
    const range = ['--from', iso(D), '--to', iso(D + DAY)];
    const res = await cli([
      'sessions',
      '--app',
      'app-one',
      ...range,
      '--format',
      'ndjson',
      '--out',
      out,
    ]);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toMatch(/^Exported 1 sessions rows in .* to .*sessions\.ndjson\n$/);
    const http = await get(
      app,
      `/export/sessions?appId=app-one&from=${iso(D)}&to=${iso(D + DAY)}&format=ndjson`,
    );
    expect(readFileSync(out, 'utf8')).toBe(http.body);
  });

  it('has no range limit, and writes to standard output without --out', async () => {
    const res = await cli([
      'messages',
      '--app',
      'app-one',
      '--from',
      iso(D),
      '--to',
      iso(D + 40 * DAY),
    ]);
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\r\n');
    expect(lines[0]).toMatch(/^appId,id,/);
    expect(lines.slice(1, -1).map((l) => l.split(',')[1])).toEqual(
      Array.from({ length: 40 }, (_, i) => `m${i}`),
    );
    expect(res.stderr).toMatch(/^Exported 40 messages rows/);
    // over HTTP the same range is refused
    const http = await get(
      app,
      `/export/messages?appId=app-one&from=${iso(D)}&to=${iso(D + 40 * DAY)}`,
    );
    expect(http.statusCode).toBe(400);
  });

  it.each([
    [['nothing', '--app', 'a', '--from', '2024-01-01', '--to', '2024-01-02'], /one of messages/],
    [['events', '--from', '2024-01-01', '--to', '2024-01-02'], /--app/],
    [['events', '--app', 'a', '--from', '2024-02-30', '--to', '2024-03-02'], /--from TIME/],
    [
      ['events', '--app', 'a', '--from', '2024-01-03', '--to', '2024-01-02'],
      /--from not after --to/,
    ],
    [
      ['events', '--app', 'a', '--from', '2024-01-01', '--to', '2024-01-02', '--format', 'xml'],
      /--format/,
    ],
  ])('%j: usage, exit code 2', async (args, said) => {
    const res = await cli(args);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(said);
    expect(res.stderr).toContain('Usage: npm run export');
  });
});
