/**
 * `npm run test:scale`: the scale-out path, tested for real on this machine.
 * 1. the software it needs (PgBouncer; Citus) is installed where missing (as root, from Debian's
 *    packages and ../shared/vendor/citus/; see test/scale/software.ts);
 * 2. the specs in test/scale/*.scale-spec.ts (replica, PgBouncer, retention on a real cluster).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensurePgBouncer } from './software';

const ROOT = path.resolve(__dirname, '..', '..');

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  if (result.status !== 0) {
    process.exit(result.status ?? 1);
  }
}

ensurePgBouncer();
run(process.execPath, [
  require.resolve('jest/bin/jest'),
  '--runInBand',
  '--config',
  'test/scale/jest.config.js',
]);
