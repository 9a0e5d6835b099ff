import { applyDecorators, BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

const SECONDS_BELOW = 100_000_000_000;
// Times PostgreSQL reads back as JavaScript writes them: year 0 and years past 9999 fail the
// query instead of matching nothing. The end is the latest event time a webhook may carry, and
// leaves room for a day bucket that ends after it.
const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');
const LATEST_MS = Date.UTC(9999, 11, 31);

/**
 * A query time: ISO-8601, or Unix seconds / milliseconds, from year 1 to 9999-12-31. Anything
 * else stays a string and fails IsDate.
 */
export function ToDate() {
  return Transform(({ value }: { value: unknown }) => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') return value;
    let date = new Date(NaN);
    if (/^\d+(\.\d+)?$/.test(value)) {
      const n = Number(value);
      date = new Date(n < SECONDS_BELOW ? n * 1000 : n);
    } else if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
      date = new Date(value);
    }
    const ms = date.getTime();
    return ms >= EARLIEST_MS && ms <= LATEST_MS ? date : value;
  });
}

/** A documented query time: ISO-8601, or Unix seconds / milliseconds. */
export function ApiTime(description: string) {
  return ApiPropertyOptional({
    type: String,
    description: `${description} ISO-8601, or Unix seconds or milliseconds.`,
    example: '2026-11-25T00:00:00Z',
  });
}

/** An optional query time: documented, parsed by ToDate, and a 400 naming it when unparseable. */
export function QueryTime(description: string) {
  return applyDecorators(
    ApiTime(description),
    IsOptional(),
    ToDate(),
    IsDate({ message: ({ property }) => `${property} must be an ISO-8601 time or a Unix time` }),
  );
}

export class AppScopedQueryDto {
  @ApiPropertyOptional({
    description:
      'The CometChat app; optional when the stored data holds only one app for the subject',
    maxLength: 255,
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  appId?: string;
}

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

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
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

export function decodeCursor(
  cursor: string | undefined,
  shape: (keyof typeof CURSOR_PARTS)[],
): unknown[] | null {
  if (cursor === undefined) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (
      Array.isArray(key) &&
      key.length === shape.length &&
      key.every((v, i) => CURSOR_PARTS[shape[i]](v))
    )
      return key;
  } catch {
    // fall through to the 400 below
  }
  throw new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: 'cursor is not a cursor this endpoint issued',
    field: 'cursor',
  });
}

export function assertRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from > to) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: 'from must not be after to',
      field: 'from',
    });
  }
}
