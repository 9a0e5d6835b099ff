'use strict';
// PostgreSQL side of the schema engine shim: the driver adapter the WebAssembly engine talks
// through, and the database-level chores the native engine does itself (shadow databases,
// `cli can-connect-to-database` / `cli create-database`).
const crypto = require('node:crypto');
const pg = require('pg');
const { PrismaPg } = require('@prisma/adapter-pg');
const { ColumnTypeEnum } = require('@prisma/driver-adapter-utils');

const CHAR_OID = 18;
const TEXT_OID = 25;
const CHAR_COLUMNS = Symbol('char columns');

// The engine describes tables by reading catalog columns of PostgreSQL's internal one-byte type
// "char" (pg_constraint.contype, ...) and insists on getting them as characters, while
// @prisma/adapter-pg rejects that type as unsupported. So the pg client passes such columns to
// the adapter as text and notes their positions on the rows array, which the adapter hands back
// untouched; the adapter wrapper below then reports them as characters.
function relabelChar(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    const positions = [];
    (r?.fields ?? []).forEach((field, i) => {
      if (field.dataTypeID !== CHAR_OID) {
        return;
      }
      field.dataTypeID = TEXT_OID;
      positions.push(i);
    });
    if (positions.length) {
      r.rows[CHAR_COLUMNS] = positions;
    }
  }
  return result;
}

// Patching the client (not the pool) also covers queries run inside transactions.
class CatalogClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') {
      [values, callback] = [undefined, values];
    }
    if (typeof callback === 'function') {
      return super.query(config, values, (err, res) => callback(err, err ? res : relabelChar(res)));
    }
    const pending = super.query(config, values);
    return typeof pending?.then === 'function' ? pending.then(relabelChar) : pending;
  }
}

function reportCharColumns(queryable) {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of result.rows[CHAR_COLUMNS] ?? []) {
      result.columnTypes[i] = ColumnTypeEnum.Character;
    }
    return result;
  };
  return queryable;
}

/**
 * Splits a Prisma connection string into what pg understands and the Prisma-only `schema`
 * parameter, which the native engine applies as the search path.
 */
function parseUrl(url) {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return {
    pgConfig: {
      connectionString: parsed.toString(),
      ...(schema ? { options: `-c search_path="${schema.replaceAll('"', '""')}"` } : {}),
    },
    schema,
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    host: parsed.hostname,
    port: parsed.port || '5432',
    user: decodeURIComponent(parsed.username),
  };
}

function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;

async function withClient(url, fn) {
  const client = new pg.Client(parseUrl(url).pgConfig);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function connectAdapter(url) {
  const { pgConfig, schema } = parseUrl(url);
  const pool = new pg.Pool({ ...pgConfig, Client: CatalogClient });
  const adapter = await new PrismaPg(pool, { schema, disposeExternalPool: true }).connect();
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (...args) => reportCharColumns(await startTransaction(...args));
  // adapter-pg runs a migration by splitting it on every ';', which cuts function bodies
  // apart; the simple query protocol takes the whole script at once, as the native engine does.
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (error) {
      adapter.onError(error);
    }
  };
  return reportCharColumns(adapter);
}

/**
 * The migration-aware adapter factory @prisma/schema-engine-wasm expects. For the shadow
 * database it does what the native engine does: use `shadowDatabaseUrl` when configured
 * (emptied first), otherwise create a throwaway database next to the main one and drop it
 * once the engine is done with it.
 */
function createAdapterFactory({ url, shadowDatabaseUrl }) {
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectAdapter(url),
    async connectToShadowDb() {
      if (shadowDatabaseUrl) {
        await resetDatabase(shadowDatabaseUrl);
        return connectAdapter(shadowDatabaseUrl);
      }
      const name = `prisma_migrate_shadow_db_${crypto.randomUUID()}`;
      await withClient(url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
      const adapter = await connectAdapter(withDatabase(url, name));
      const closePool = adapter.dispose.bind(adapter);
      // Drop only after the pool is closed: PostgreSQL refuses to drop a database in use.
      adapter.dispose = async () => {
        await closePool();
        await withClient(url, (c) =>
          c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
        );
      };
      return adapter;
    },
  };
}

// The native engine empties a user-provided shadow database before use; the WebAssembly engine
// does not, and leftovers from an earlier run would end up in the computed schema.
async function resetDatabase(url) {
  const { schema = 'public' } = parseUrl(url);
  await withClient(url, async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await c.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  });
}

/** Maps a connection failure to the Prisma error the native engine would report. */
function describeConnectionError(url, error) {
  const { database, host, port, user } = parseUrl(url);
  const at = `${host}:${port}`;
  switch (error.code) {
    case '3D000':
      return {
        error_code: 'P1003',
        message: `Database \`${database}\` does not exist on the database server at \`${at}\`.`,
      };
    case '28P01':
    case '28000':
      return {
        error_code: 'P1000',
        message: `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at \`${host}\`.`,
      };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return {
        error_code: 'P1001',
        message: `Can't reach database server at \`${at}\`\n\nPlease make sure your database server is running at \`${at}\`.`,
      };
    default:
      return { message: error.message };
  }
}

async function canConnect(url) {
  await withClient(url, (c) => c.query('SELECT 1'));
}

// Like the native engine: connect to the server's maintenance database to create the target.
async function createDatabase(url) {
  const { database } = parseUrl(url);
  await withClient(withDatabase(url, 'postgres'), (c) =>
    c.query(`CREATE DATABASE ${quoteIdent(database)}`),
  );
  return database;
}

module.exports = { createAdapterFactory, describeConnectionError, canConnect, createDatabase };
