import { BadRequestException } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

const SECONDS_BELOW = 100_000_000_000;

/** A query time: ISO-8601, or Unix seconds / milliseconds. Unparseable stays a string and fails IsDate. */
export function ToDate() {
  return Transform(({ value }: { value: unknown }) => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') return value;
    if (/^\d+(\.\d+)?$/.test(value)) {
      const n = Number(value);
      return new Date(n < SECONDS_BELOW ? n * 1000 : n);
    }
    const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
    return Number.isNaN(date.getTime()) ? value : date;
  });
}

export class AppScopedQueryDto {
  /** The CometChat app; optional when the stored data holds only one app for the subject. */
  @IsOptional() @IsString() @Length(1, 255) appId?: string;
}

export class PageQueryDto extends AppScopedQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit = 50;
  @IsOptional() @IsString() @Length(1, 512) cursor?: string;
}

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  shape: ('string' | 'number')[],
): unknown[] | null {
  if (cursor === undefined) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (
      Array.isArray(key) &&
      key.length === shape.length &&
      key.every((v, i) => typeof v === shape[i])
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
