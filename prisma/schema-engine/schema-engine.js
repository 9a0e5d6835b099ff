#!/usr/bin/env node
'use strict';
// Stands in for Prisma's native `schema-engine` binary, which the CLI would download from a
// host this machine cannot reach. prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here.
// It speaks the binary's protocol (JSON-RPC 2.0, one object per line on stdin/stdout, JSON log
// lines on stderr) and forwards every request to the same engine compiled to WebAssembly,
// which reaches PostgreSQL through @prisma/adapter-pg.
//
// Invocations made by the Prisma CLI:
//   schema-engine --version
//   schema-engine --datasource '{"url":…}' cli can-connect-to-database|create-database
//   schema-engine [--datamodels <file>]… [--datasource '{"url":…,"shadowDatabaseUrl":…}']
const fs = require('node:fs');
const readline = require('node:readline');
const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils');
const wasm = require('./wasm');
const postgres = require('./postgres');

// The CLI's method names, where the WebAssembly engine names them differently.
const WASM_METHOD = { getDatabaseVersion: 'version' };
const NOT_RPC_METHODS = new Set(['constructor', 'free']);

// Unlike the native engine, the WebAssembly engine only opens shadow databases while diagnosing
// the migration history; evaluateDataLoss and createMigration then reuse what that found, and
// fail with "PostgreSQL shadow DB must be provided through an external factory" when there is
// none: on a fresh engine, or once the database has been changed (observed after applying
// migrations). Such calls get a diagnosis first, which is what `migrate dev` needs.
const NEEDS_DIAGNOSIS = new Set(['evaluateDataLoss', 'createMigration']);
const CHANGES_DATABASE = new Set([
  'applyMigrations',
  'createMigration',
  'dbExecute',
  'markMigrationApplied',
  'markMigrationRolledBack',
  'reset',
  'schemaPush',
]);

function parseArgs(argv) {
  const args = { datamodels: [], datasource: {}, command: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version') {
      args.version = true;
    } else if (arg === '--datamodels') {
      args.datamodels.push(argv[++i]);
    } else if (arg === '--datasource') {
      args.datasource = JSON.parse(argv[++i]);
    }
    // Preview features and extension types have no counterpart in the WebAssembly engine.
    else if (arg === '--enabled-preview-features' || arg === '--extension-types') {
      i++;
    } else {
      args.command.push(arg);
    }
  }
  return args;
}

// stderr lines are read by the CLI as tracing JSON; an ERROR line carries the user-facing error.
function log(level, fields) {
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target: 'schema_engine::logger' })}\n`,
  );
}

async function runCliCommand([scope, name], { url }) {
  if (scope !== 'cli' || !name) {
    throw new Error(`unknown command: ${[scope, name].join(' ')}`);
  }
  // The CLI skips the first stderr line before parsing the rest, as the native binary's is a banner.
  log('INFO', { message: 'Starting schema engine CLI (WebAssembly shim)' });
  try {
    if (name === 'can-connect-to-database') {
      await postgres.canConnect(url);
      process.stdout.write('Connection successful\n');
    } else if (name === 'create-database') {
      const database = await postgres.createDatabase(url);
      process.stdout.write(`Database '${database}' was successfully created.\n`);
    } else {
      throw new Error(`unknown cli command: ${name}`);
    }
    return 0;
  } catch (error) {
    log('ERROR', { is_panic: false, ...postgres.describeConnectionError(url, error) });
    return 1;
  }
}

function toRpcError(error) {
  const panic = wasm.panicMessage(error);
  if (panic !== undefined) {
    return {
      code: 4466,
      message: panic,
      data: { is_panic: true, message: panic, backtrace: error.stack },
    };
  }
  return {
    code: 4466,
    message: 'An error happened. Check the data field for details.',
    data: {
      is_panic: false,
      message: error.message,
      meta: error.meta ?? null,
      error_code: error.code ?? null,
    },
  };
}

function serve({ datamodels, datasource }) {
  const send = (message) =>
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  let engine;
  const getEngine = () =>
    (engine ??= wasm.load().then(({ SchemaEngine }) =>
      SchemaEngine.new(
        // An empty list makes the engine panic; "no schema" must be undefined.
        {
          datamodels: datamodels.length
            ? datamodels.map((file) => [file, fs.readFileSync(file, 'utf8')])
            : undefined,
        },
        (line) => process.stderr.write(`${String(line).trimEnd()}\n`),
        bindMigrationAwareSqlAdapterFactory(postgres.createAdapterFactory(datasource)),
      ),
    ));

  let printRequests = 0;
  let diagnosed = false;
  async function handle({ id, method, params }) {
    try {
      const wasmMethod = WASM_METHOD[method] ?? method;
      const instance = await getEngine();
      if (NOT_RPC_METHODS.has(wasmMethod) || typeof instance[wasmMethod] !== 'function') {
        send({ id, error: { code: -32601, message: `Method not found: ${method}` } });
        return;
      }
      if (NEEDS_DIAGNOSIS.has(method) && !diagnosed) {
        const { migrationsList, filters } = params;
        await instance.diagnoseMigrationHistory({
          migrationsList,
          filters,
          optInToShadowDatabase: true,
        });
      }
      if (CHANGES_DATABASE.has(method)) {
        diagnosed = false;
      }
      const result = await instance[wasmMethod](params);
      if (
        method === 'devDiagnostic' ||
        (method === 'diagnoseMigrationHistory' && params.optInToShadowDatabase)
      ) {
        diagnosed = true;
      }
      if (method === 'diff') {
        // The native engine prints the diff through a `print` request to the CLI, which
        // writes it to its own stdout (so `--output` can capture it) and adds a newline.
        const { stdout, ...rest } = result;
        if (stdout) {
          send({
            id: `print-${++printRequests}`,
            method: 'print',
            params: { content: stdout.replace(/\n$/, '') },
          });
        }
        send({ id, result: rest });
        return;
      }
      send({ id, result: result ?? null });
    } catch (error) {
      send({ id, error: toRpcError(error) });
    }
  }

  const inFlight = new Set();
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on('line', (line) => {
    if (!line.trim()) {
      return;
    }
    const message = JSON.parse(line);
    // Lines without a method are the CLI's acknowledgements of our `print` requests.
    if (!message.method) {
      return;
    }
    const task = handle(message).finally(() => inFlight.delete(task));
    inFlight.add(task);
  });
  // The CLI ends stdin when it is done with the engine. Exit explicitly: the WebAssembly engine
  // and the connection pools keep timers alive that would otherwise delay the CLI for seconds.
  input.on('close', () => {
    void Promise.allSettled(inFlight).then(() => process.exit(0));
  });
}

// A panic inside one of the engine's own callbacks escapes as an uncaught exception instead of a
// rejected call. End the way the native binary does on a panic: message on stderr, exit code 101.
process.on('uncaughtException', (error) => {
  const panic = wasm.panicMessage(error);
  log('ERROR', { is_panic: panic !== undefined, message: panic ?? error.stack ?? String(error) });
  process.exit(panic === undefined ? 1 : 101);
});

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    const { version } = await wasm.load();
    process.stdout.write(`schema-engine-cli ${version()}\n`);
    return 0;
  }
  if (args.command.length) {
    return runCliCommand(args.command, args.datasource);
  }
  serve(args);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) {
      process.exit(code);
    }
  },
  (error) => {
    log('ERROR', { is_panic: false, message: error.stack ?? String(error) });
    process.exit(1);
  },
);
