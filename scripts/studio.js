#!/usr/bin/env node
'use strict';
// `npm run studio`: Prisma Studio on the database the service uses. prisma.config.ts picks it
// (DATABASE_URL, else the embedded server, started if needed and stopped when Studio exits).
// Extra arguments go to `prisma studio`, e.g. `npm run studio -- --port 5556 --browser none`.
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const cli = require.resolve('prisma/build/index.js', { paths: [ROOT] });

// Studio runs in its own process group so that Ctrl-C reaches it exactly once, through us: it
// shuts down on the first SIGINT, but a second one would kill it before prisma.config.ts's exit
// hook has stopped an embedded server it started.
const studio = spawn(process.execPath, [cli, 'studio', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  detached: true,
});

let forwarded = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (forwarded) {
      return;
    }
    forwarded = true;
    studio.kill(signal);
  });
}
studio.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
