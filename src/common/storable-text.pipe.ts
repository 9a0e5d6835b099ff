import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { BadQueryParameterError } from './bad-query-parameter.error';

/**
 * Query and path values go to PostgreSQL as text, which holds neither NUL nor unpaired surrogates:
 * such a value could match nothing stored and would fail the query (500). Answer 400 naming the
 * parameter instead, for every route at once, before any DTO sees it.
 */
@Injectable()
export class StorableTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'query' && metadata.type !== 'param') {
      return value;
    }
    const field = unstorable(value, metadata.data ?? '');
    if (field !== null) {
      const name = field || metadata.type;
      throw new BadQueryParameterError(
        name,
        `${name} must not contain NUL or unpaired surrogate characters`,
      );
    }
    return value;
  }
}

const isBad = (text: string) => text.includes('\u0000') || !text.isWellFormed();

/** The name of the first value (or key) that text columns cannot hold, else null. */
function unstorable(value: unknown, name: string): string | null {
  if (typeof value === 'string') {
    return isBad(value) ? name : null;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (unstorable(item, name) !== null) {
        return name;
      }
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const field = name === '' ? key : `${name}.${key}`;
      if (isBad(key) || unstorable(item, field) !== null) {
        return field;
      }
    }
  }
  return null;
}
