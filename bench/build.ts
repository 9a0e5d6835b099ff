import fs from 'node:fs';
import path from 'node:path';
import { ROOT, run } from './processes';

/**
 * The bench compiles the service into its own directory (.data/bench-build/dist) with the same
 * tsconfig.build.json that `nest build` uses, instead of dist/: in a shared working tree another
 * `nest build` empties dist/ while it runs, which would pull the service out from under the bench.
 * What the service reads from its root (scripts/, prisma/, package.json) is linked beside it.
 */
export async function buildService(): Promise<string> {
  const dir = path.join(ROOT, '.data', 'bench-build');
  const out = path.join(dir, 'dist');
  fs.mkdirSync(dir, { recursive: true });
  // What the service reads relative to its own root: the scripts, the migrations, its version.
  for (const entry of ['scripts', 'prisma', 'package.json', 'prisma.config.ts']) {
    const link = path.join(dir, entry);
    if (!fs.existsSync(link)) {
      fs.symlinkSync(path.join(ROOT, entry), link);
    }
  }
  await run('build', process.execPath, [
    path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    path.join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    out,
    // Incremental, with its state inside out/ so that removing the output forces a full build.
    '--tsBuildInfoFile',
    path.join(out, '.tsbuildinfo'),
  ]);
  // The files `nest build` copies (nest-cli.json "assets"): the dashboard's page, and the plain
  // JavaScript of src/db (embedded PostgreSQL control, port holder), which tsc does not emit.
  fs.cpSync(path.join(ROOT, 'src', 'dashboard', 'public'), path.join(out, 'dashboard', 'public'), {
    recursive: true,
  });
  for (const file of fs.readdirSync(path.join(ROOT, 'src', 'db'))) {
    if (file.endsWith('.js')) {
      fs.copyFileSync(path.join(ROOT, 'src', 'db', file), path.join(out, 'db', file));
    }
  }
  return path.join(out, 'main.js');
}
