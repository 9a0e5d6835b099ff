import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDate, IsDefined, IsOptional, IsString, Length } from 'class-validator';
import { BadQueryParameterError } from './bad-query-parameter.error';

const SECONDS_BELOW = 100_000_000_000;
const DAY_MS = 86_400_000;
// Times PostgreSQL reads back as JavaScript writes them: year 0 and years past 9999 fail the
// query instead of matching nothing. The end is the latest event time a webhook may carry; a
// query may reach one day past it (the end of the last day bucket).
export const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');
export const LATEST_MS = Date.UTC(9999, 11, 31);
const QUERY_LATEST_MS = LATEST_MS + DAY_MS;

// ISO-8601 as the API documents it: a calendar date, optionally a time to the minute, second or
// millisecond (T or a space between), optionally Z or an offset; without one the time is UTC.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * A query time in epoch ms, or null unless it is exactly one of: ISO-8601 naming a real
 * calendar day and time (no 2026-02-30, no 25:00, nothing after it), or Unix seconds (below
 * 100000000000) or milliseconds; from year 1 to 9999-12-31.
 */
export function parseQueryTime(value: string): number | null {
  let ms: number;
  if (/^\d{1,16}(\.\d{1,9})?$/.test(value)) {
    const n = Number(value);
    ms = Math.round(n < SECONDS_BELOW ? n * 1000 : n);
  } else {
    const m = ISO_TIME.exec(value);
    if (!m) {
      return null;
    }
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0));
    const fraction = Number(`0.${m[7] ?? '0'}`);
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which maps years 0-99 to 1900s
    date.setUTCHours(hour, minute, second, Math.floor(fraction * 1000));
    // The calendar fields must survive the round trip: JavaScript would shift 02-30 to 03-02.
    if (
      date.getUTCFullYear() !== year ||
      date.getUTCMonth() !== month - 1 ||
      date.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      return null;
    }
    const zone = m[8]?.toUpperCase();
    let offsetMinutes = 0;
    if (zone !== undefined && zone !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      const [h, min] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || '0')];
      if (h > 23 || min > 59) {
        return null;
      }
      offsetMinutes = (zone[0] === '-' ? -1 : 1) * (h * 60 + min);
    }
    ms = date.getTime() - offsetMinutes * 60_000;
  }
  return ms >= EARLIEST_MS && ms <= LATEST_MS ? ms : null;
}

/** A query time (see parseQueryTime); anything else stays a string and fails IsDate. */
export function ToDate() {
  return Transform(({ value }: { value: unknown }) => {
    if (value === undefined || value === '') {
      return undefined;
    }
    if (typeof value !== 'string') {
      return value;
    }
    const ms = parseQueryTime(value);
    return ms === null ? value : new Date(ms);
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

const isQueryTime = () =>
  IsDate({
    message: ({ property }) =>
      `${property} must be an ISO-8601 time or a Unix time between 0001-01-01 and 9999-12-31 UTC`,
  });

/** An optional query time: documented, parsed by ToDate, and a 400 naming it when unparseable. */
export function QueryTime(description: string) {
  return applyDecorators(ApiTime(description), IsOptional(), ToDate(), isQueryTime());
}

/** A query time the caller must give: a 400 naming it when missing or unparseable. */
export function RequiredQueryTime(description: string) {
  return applyDecorators(
    ApiProperty({
      type: String,
      description: `${description} ISO-8601, or Unix seconds or milliseconds.`,
      example: '2026-11-25T00:00:00Z',
    }),
    ToDate(),
    IsDefined({ message: ({ property }) => `${property} is required` }),
    isQueryTime(),
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

/** An optional platform query parameter, as the connection events name it (1–255 characters). */
export function QueryPlatform(description: string, example: string) {
  return applyDecorators(
    ApiPropertyOptional({ description, maxLength: 255, example }),
    IsOptional(),
    IsString(),
    Length(1, 255),
  );
}

export function assertRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from > to) {
    throw new BadQueryParameterError('from', 'from must not be after to');
  }
}

/**
 * The window a query really reads: from/to with their defaults (`to` now, `from` defaultSpanMs
 * before `to`), widened to whole buckets of `alignMs`, as epoch ms. A bound reaching outside the
 * times PostgreSQL can take is a 400 naming the parameter it comes from, never a failed query.
 */
export function effectiveRange(
  query: { from?: Date; to?: Date },
  defaultSpanMs: number,
  alignMs = 1,
): { from: number; to: number; first: number; end: number } {
  const to = (query.to ?? new Date()).getTime();
  const from = query.from?.getTime() ?? to - defaultSpanMs;
  const first = Math.floor(from / alignMs) * alignMs;
  const end = Math.ceil(to / alignMs) * alignMs;
  const range = '0001-01-01 to 9999-12-31 UTC';
  if (first < EARLIEST_MS) {
    const field = query.from ? 'from' : 'to';
    throw new BadQueryParameterError(
      field,
      query.from
        ? `from (rounded down to its bucket) is before ${range}`
        : `to leaves no room for the default window before it: the range must lie within ${range}`,
    );
  }
  if (end > QUERY_LATEST_MS) {
    throw new BadQueryParameterError('to', `to (rounded up to its bucket) is after ${range}`);
  }
  return { from, to, first, end };
}
