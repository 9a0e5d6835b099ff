import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's PgBouncer binary, installed with apt-get when missing (root only). */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

function aptInstall(packages: string[]): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${packages.join(', ')}: install with apt-get (needs root)`);
  }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export function ensurePgBouncer(): void {
  if (!existsSync(PGBOUNCER)) {
    aptInstall(['pgbouncer']);
  }
}
