'use strict';
// Loads @prisma/schema-engine-wasm the way @prisma/internals does. The package's entry point
// imports the .wasm file as an ES module, which Node 20 cannot do without a flag, so the
// bindings (schema_engine_bg.js) are imported on their own and the module is instantiated here.
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const PACKAGE_DIR = path.dirname(require.resolve('@prisma/schema-engine-wasm'));

// The bindings report the Rust panic message here before the WebAssembly trap is raised.
const panicRegistry = {
  message: '',
  set_message(message) {
    this.message = message;
  },
};

let bindings;

async function load() {
  if (bindings) {
    return bindings;
  }
  globalThis.PRISMA_WASM_PANIC_REGISTRY = panicRegistry;
  const runtime = await import(pathToFileURL(path.join(PACKAGE_DIR, 'schema_engine_bg.js')).href);
  const module = new WebAssembly.Module(
    fs.readFileSync(path.join(PACKAGE_DIR, 'schema_engine_bg.wasm')),
  );
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': runtime });
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  bindings = runtime;
  return runtime;
}

/** A panic surfaces as a WebAssembly trap; its message is the one the registry captured. */
function panicMessage(error) {
  return error instanceof WebAssembly.RuntimeError
    ? panicRegistry.message || error.message
    : undefined;
}

module.exports = { load, panicMessage };
