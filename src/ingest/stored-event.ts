import { PoolClient } from 'pg';
import { CometChatEvent } from './cometchat-event';

/** An event that was new to the database in this batch, with the id of its raw row. */
export interface StoredEvent extends CometChatEvent {
  eventId: string;
}

/** Writes the derived rows of a batch of new events, inside the batch's transaction. */
export type DerivedRowsWriter = (tx: PoolClient, events: StoredEvent[]) => Promise<void>;

/** Keeps one value per key, folding later ones into it (multi-row upserts need unique keys). */
export function mergeBy<T>(items: T[], keyOf: (item: T) => string, merge: (a: T, b: T) => T): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = keyOf(item);
    const existing = byKey.get(k);
    byKey.set(k, existing === undefined ? item : merge(existing, item));
  }
  return [...byKey.values()];
}

export const minOf = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.min(a, b);
export const maxOf = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.max(a, b);
