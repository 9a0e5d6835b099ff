// Prisma CLI configuration. Every command runs offline: the schema engine is the WebAssembly
// build behind a small shim (prisma/schema-engine), and without DATABASE_URL the database is
// the embedded PostgreSQL that the service, Studio and the tests share.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import * as embedded from './src/db/embedded-postgres';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(
  __dirname,
  'prisma',
  'schema-engine',
  'schema-engine.js',
);

// Commands that never connect; `npm run build` and the tests' `prisma generate` should not
// initialise or start a database.
const OFFLINE_COMMANDS = new Set(['generate', 'validate', 'format', 'version', '--version', '-v']);

function databaseUrl(): string | undefined {
  if (process.env.DATABASE_URL) {
    return process.env.DATABASE_URL;
  }
  if (OFFLINE_COMMANDS.has(process.argv[2])) {
    return undefined;
  }
  const { url, startedHere } = embedded.ensure();
  // Leave a server that was already running alone; one started for this command (including a
  // long-running `prisma studio`) goes away with it.
  if (startedHere) {
    process.on('exit', () => embedded.stop());
  }
  return url;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: databaseUrl(),
    // Unset, the schema engine creates a temporary shadow database next to the main one
    // (which needs the CREATEDB privilege) and drops it afterwards, as Prisma's native engine does.
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
});
