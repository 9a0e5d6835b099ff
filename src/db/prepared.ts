import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';

/**
 * Runs text queries as named prepared statements, so PostgreSQL plans each distinct statement
 * once per connection instead of on every call: the ingest and presence statements are large
 * (CTEs, LATERAL walks) and planning them cost more than running them (npm run bench).
 * With DB_PREPARED_STATEMENTS=false the pool's clients send them unnamed (UnnamedStatementsClient).
 */
export function preparing(client: PoolClient): PoolClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'query') {
        return Reflect.get(target, property, receiver) as unknown;
      }
      return <R extends QueryResultRow>(
        text: unknown,
        values?: unknown[],
      ): Promise<QueryResult<R>> =>
        typeof text === 'string' && Array.isArray(values)
          ? target.query<R>({ name: statementName(text), text, values })
          : target.query<R>(text as string, values);
    },
  });
}

export function statementName(text: string): string {
  return `s${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/**
 * DB_PREPARED_STATEMENTS=false: a pg Client that sends every statement unnamed, whoever named it
 * (`preparing()`, a `name:` in a query, a driver adapter), so that no statement outlives its
 * round trip. PgBouncer in transaction mode hands each transaction to any server connection, where
 * a statement prepared on another one "does not exist" or "already exists".
 */
export class UnnamedStatementsClient extends Client {}
UnnamedStatementsClient.prototype.query = function (this: Client, ...args: unknown[]) {
  const [config, ...rest] = args;
  const unnamed =
    typeof config === 'object' && config !== null && 'name' in config && !('submit' in config)
      ? { ...config, name: undefined }
      : config;
  // Looked up at each call, not kept: whoever wraps pg's query (the SQL record's spy) still sees it.
  const query = Reflect.get(Client.prototype, 'query') as (...a: unknown[]) => unknown;
  return query.call(this, unnamed, ...rest);
} as Client['query'];
