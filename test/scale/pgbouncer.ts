import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as embedded from '../../src/db/embedded-postgres';
import { freePort } from '../reliability/service';
import { PGBOUNCER } from './software';

export interface PgBouncer {
  /** `serverUrl` with PgBouncer's address, for database alias `alias` (default: the same name). */
  url(alias?: string): string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Debian's PgBouncer (1.18: no prepared-statement support) in transaction pool mode in front of
 * `serverUrl`'s server, on a free port. `aliases` are extra database names for the same database
 * with their own server pool size. PgBouncer refuses to run as root: then it runs as the
 * 'postgres' user the embedded PostgreSQL runs as.
 */
export async function startPgBouncer(
  serverUrl: string,
  { poolSize, aliases = {} }: { poolSize: number; aliases?: Record<string, number> },
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const database = server.pathname.slice(1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbouncer-'));
  const port = await freePort();
  const target = `host=${server.hostname} port=${server.port} dbname=${database}`;
  const user = decodeURIComponent(server.username);
  writeFileSync(
    path.join(dir, 'userlist.txt'),
    `"${user}" "${decodeURIComponent(server.password)}"\n`,
  );
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = ${target}`,
      ...Object.entries(aliases).map(([alias, size]) => `${alias} = ${target} pool_size=${size}`),
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 200',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    for (const file of ['', 'userlist.txt', 'pgbouncer.ini']) {
      chownSync(path.join(dir, file), uid, gid);
    }
  }
  const child: ChildProcess = spawn(
    PGBOUNCER,
    // -q: its log goes to the logfile only.
    ['-q', ...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => {
    try {
      return readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await embedded.waitForPort(port);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`PgBouncer did not start: ${(error as Error).message}\n${log()}`, {
      cause: error,
    });
  }
  return {
    url: (alias = database) => {
      const url = new URL(serverUrl);
      url.port = String(port);
      url.pathname = `/${alias}`;
      return url.toString();
    },
    log,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
