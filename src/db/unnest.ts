/** A PostgreSQL array element type a multi-row statement's column is sent as. */
export type ColumnType = 'text' | 'float8' | 'bigint' | 'boolean';

/** One column of a multi-row write: its SQL type and how to read it from a row. */
export type Columns<T> = Record<string, readonly [ColumnType, (row: T) => unknown]>;

/**
 * Builds `unnest($1::text[], $2::float8[], …) AS alias(app_id, uid, …)` and its parameters from
 * one column map, so a multi-row statement names every column it reads, in one place.
 * `firstParam` is the number of the first placeholder (for statements with other parameters).
 */
export function unnestRows<T>(
  rows: readonly T[],
  columns: Columns<T>,
  alias = 'x',
  firstParam = 1,
): { sql: string; values: unknown[][] } {
  const entries = Object.entries(columns);
  const placeholders = entries.map(([, [type]], i) => `$${firstParam + i}::${type}[]`);
  return {
    sql: `unnest(${placeholders.join(', ')}) AS ${alias}(${entries.map(([name]) => name).join(', ')})`,
    values: entries.map(([, [, read]]) => rows.map(read)),
  };
}
