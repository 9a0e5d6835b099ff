import { createHash } from 'node:crypto';
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';

/**
 * Runs text queries as named prepared statements, so PostgreSQL plans each distinct statement
 * once per connection instead of on every call: the ingest and presence statements are large
 * (CTEs, LATERAL walks) and planning them cost more than running them (npm run bench).
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
