import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

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

/** Debian's PostgreSQL 15, the server the Citus cluster of `npm run test:scale` runs on. */
export const PG15_BIN = '/usr/lib/postgresql/15/bin';
const CITUS_VERSION = '13.2.2';
const CITUS_BUILD_DEPS = [
  'postgresql-15',
  'postgresql-server-dev-15',
  'libkrb5-dev',
  'liblz4-dev',
  'libzstd-dev',
  'libcurl4-openssl-dev',
];

/**
 * Where the Citus source is: CITUS_SOURCE_DIR, else ../shared/vendor/citus beside the checkout,
 * else /work/shared/vendor/citus (CI clones the repository into a temporary directory).
 */
export function citusSourceDir(root = ROOT): string {
  const candidates = [
    process.env.CITUS_SOURCE_DIR,
    path.resolve(root, '..', 'shared', 'vendor', 'citus'),
    '/work/shared/vendor/citus',
  ].filter((dir): dir is string => Boolean(dir));
  const found = candidates.find((dir) =>
    existsSync(path.join(dir, `citus-${CITUS_VERSION}.tar.gz`)),
  );
  if (!found) {
    throw new Error(
      `Citus is not installed and its source (citus-${CITUS_VERSION}.tar.gz) is in none of: ` +
        `${candidates.join(', ')}. Set CITUS_SOURCE_DIR, or install Citus from its own packages ` +
        `(https://docs.citusdata.com) into PostgreSQL 15.`,
    );
  }
  return found;
}

function pkglibdir(): string | null {
  const pgConfig = path.join(PG15_BIN, 'pg_config');
  if (!existsSync(pgConfig)) {
    return null;
  }
  return execFileSync(pgConfig, ['--pkglibdir'], { encoding: 'utf8' }).trim();
}

/**
 * Citus in Debian's PostgreSQL 15: nothing to do when citus.so is there; otherwise (as root) the
 * build dependencies from apt and a build of the vendored source, by its README's recipe, in a
 * temporary directory (about 3 minutes on 2 cores).
 */
export function ensureCitus(): void {
  const libdir = pkglibdir();
  if (libdir && existsSync(path.join(libdir, 'citus.so'))) {
    return;
  }
  buildCitus(citusSourceDir());
}

/** The build dependencies from apt, then the README's recipe in a temporary directory. */
export function buildCitus(source: string): void {
  aptInstall(CITUS_BUILD_DEPS);
  const work = mkdtempSync(path.join(os.tmpdir(), 'citus-build-'));
  const sh = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, stdio: 'inherit' });
  try {
    const started = Date.now();
    sh('tar', ['xzf', path.join(source, `citus-${CITUS_VERSION}.tar.gz`)], work);
    const tree = path.join(work, `citus-${CITUS_VERSION}`);
    sh('patch', ['-p1', '-i', path.join(source, `citus-${CITUS_VERSION}-pg15.20.patch`)], tree);
    sh('./configure', [`--with-pg-config=${path.join(PG15_BIN, 'pg_config')}`], tree);
    sh('make', ['-j2'], tree);
    sh('make', ['install'], tree);
    console.log(`Citus ${CITUS_VERSION} built and installed in ${(Date.now() - started) / 1000} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(path.join(pkglibdir() ?? '', 'citus.so'))) {
    throw new Error(`Citus was built but citus.so is not in ${pkglibdir()}`);
  }
}
