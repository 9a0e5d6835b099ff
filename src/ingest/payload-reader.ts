/** A webhook field that is missing or unusable; `field` is its dotted path in the body. */
export class PayloadError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export type Json = Record<string, unknown>;

const MAX_ID_LENGTH = 255;
// Values below this are seconds (CometChat sends seconds for messages and receipts, ms for connections).
const SECONDS_BELOW = 100_000_000_000;
const MAX_TIME_MS = Date.UTC(9999, 11, 31);

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, field: string): Json {
  if (!isObject(value)) {
    throw new PayloadError(field, `${field} must be an object`);
  }
  return value;
}

/** An identifier: a non-empty string, or a number CometChat sent unquoted. */
export function id(value: unknown, field: string): string {
  const result = optionalId(value, field);
  if (result === null) {
    throw new PayloadError(field, `${field} is required`);
  }
  return result;
}

/** Stored text that is no id (trigger, webhook name): at most as long as an id. */
export function boundedText(text: string, field: string): string {
  if (text.length > MAX_ID_LENGTH) {
    throw new PayloadError(field, `${field} must be at most ${MAX_ID_LENGTH} characters`);
  }
  return text;
}

export function optionalId(value: unknown, field: string): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  let text: string;
  if (typeof value === 'string') {
    text = value.trim();
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    text = String(value);
  } else {
    throw new PayloadError(field, `${field} must be a string or a number`);
  }
  if (text === '') {
    throw new PayloadError(field, `${field} must not be empty`);
  }
  if (text.length > MAX_ID_LENGTH) {
    throw new PayloadError(field, `${field} must be at most ${MAX_ID_LENGTH} characters`);
  }
  return text;
}

/** A time as a number or numeric string, in seconds or milliseconds; returns epoch ms. */
export function time(value: unknown, field: string): number {
  const result = optionalTime(value, field);
  if (result === null) {
    throw new PayloadError(field, `${field} is required`);
  }
  return result;
}

export function optionalTime(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === '') {
    return null;
  }
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n)) {
    throw new PayloadError(field, `${field} must be a Unix time (number or numeric string)`);
  }
  const ms = Math.round(n < SECONDS_BELOW ? n * 1000 : n);
  if (ms <= 0 || ms > MAX_TIME_MS) {
    throw new PayloadError(field, `${field} is out of range`);
  }
  return ms;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const match = allowed.find((a) => a.toLowerCase() === text);
  if (match === undefined) {
    throw new PayloadError(field, `${field} must be one of ${allowed.join(', ')}`);
  }
  return match;
}

/** Rejects what PostgreSQL's jsonb cannot hold, so one such body never fails a batch. */
export function assertStorable(value: unknown, maxDepth = 64): void {
  const visit = (node: unknown, depth: number, path: string): void => {
    if (depth > maxDepth) {
      throw new PayloadError(path, `body nests deeper than ${maxDepth} levels`);
    }
    if (typeof node === 'string') {
      if (!node.isWellFormed() || node.includes('\u0000')) {
        throw new PayloadError(path, `${path} holds a NUL or unpaired surrogate character`);
      }
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, depth + 1, `${path}[${i}]`));
    } else if (isObject(node)) {
      for (const [key, item] of Object.entries(node)) {
        visit(key, depth, path);
        visit(item, depth + 1, path === '' ? key : `${path}.${key}`);
      }
    }
  };
  visit(value, 0, '');
}

/**
 * JSON.parse, except that integer literals beyond Number.MAX_SAFE_INTEGER (CometChat's numeric
 * ids can be) become strings of their exact digits instead of a rounded number: 9007199254740993
 * must not become …992 and then collide with another id. Node 20 has no source text in
 * JSON.parse's reviver, hence the scan. An error is JSON.parse's own, on the text as sent.
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // Fast path: an unsafe integer has at least 16 digits in a row.
  if (!/\d{16}/.test(text)) {
    return value;
  }
  const rewritten = quoteUnsafeIntegers(text);
  return rewritten === text ? value : JSON.parse(rewritten);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** Valid JSON text with every unsafe integer literal outside strings put in quotes. */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string, skipped whole: an escape skips the character after the backslash.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) {
          i++;
        }
      }
      i++;
    } else if (c === 0x2d || isDigit(c)) {
      const start = i;
      i++;
      while (i < text.length && /[\d.eE+-]/.test(text[i])) {
        i++;
      }
      const literal = text.slice(start, i);
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(copied, start)}"${literal}"`;
        copied = i;
      }
    } else {
      i++;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
