import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { BadQueryParameterError } from './bad-query-parameter.error';
import { AppScopedQueryDto, EARLIEST_MS, LATEST_MS } from './query-params';

/** `limit` (1..500, default 50) and `cursor`: the query of every paged list. */
export class PageQueryDto extends AppScopedQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * What each part of a sort key may be. A cursor is decoded from what the caller sends, so a
 * forged one must fail here with a 400, not in PostgreSQL with a 500.
 */
const CURSOR_PARTS = {
  /** Text PostgreSQL can hold: no NUL, no unpaired surrogate. */
  string: (v: unknown) => typeof v === 'string' && !v.includes('\u0000') && v.isWellFormed(),
  number: (v: unknown) => typeof v === 'number' && Number.isFinite(v),
  /** Epoch milliseconds that a query time may be. */
  time: (v: unknown) => Number.isInteger(v) && Number(v) >= EARLIEST_MS && Number(v) <= LATEST_MS,
  /** A bigint row id, as a decimal string. */
  id: (v: unknown) =>
    typeof v === 'string' && /^\d{1,19}$/.test(v) && BigInt(v) <= 9_223_372_036_854_775_807n,
};

interface CursorPartTypes {
  string: string;
  number: number;
  time: number;
  id: string;
}
type CursorPart = keyof typeof CURSOR_PARTS & keyof CursorPartTypes;
type CursorKey<S extends readonly CursorPart[]> = {
  -readonly [I in keyof S]: CursorPartTypes[S[I]];
};

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, checked part by part against `shape`; a 400 naming `cursor` if not. */
export function decodeCursor<const S extends readonly CursorPart[]>(
  cursor: string | undefined,
  shape: S,
): CursorKey<S> | null {
  if (cursor === undefined) {
    return null;
  }
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(key) &&
      key.length === shape.length &&
      key.every((v, i) => CURSOR_PARTS[shape[i]](v))
    ) {
      return key as CursorKey<S>;
    }
  } catch {
    // fall through to the 400 below
  }
  throw new BadQueryParameterError('cursor', 'cursor is not a cursor this endpoint issued');
}

/**
 * One page of `rows`, which the caller fetched with `LIMIT limit + 1`: the first `limit` of them,
 * and a cursor after the last one when the extra row shows there is more.
 */
export function page<T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => (string | number)[],
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
