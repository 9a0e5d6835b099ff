import { DerivedRowsWriter } from './stored-event';

/**
 * The derivation steps, in the order each batch runs them: receipts read the messages written
 * before them (sent time, conversation, sender), groups keep membership, unread reads all three,
 * connections stand alone, and activity (active users' days) reads the messages and sessions the
 * others wrote. Each feature module registers its step with the DerivationRunner; a step missing
 * at start-up stops the service.
 */
export const DERIVATION_ORDER = [
  'messages',
  'receipts',
  'groups',
  'unread',
  'connections',
  'activity',
] as const;

export type DerivationStepName = (typeof DERIVATION_ORDER)[number];

/** A feature's derivation: writes its derived rows for a batch of new raw events, in the batch's transaction. */
export interface DerivationStep {
  readonly name: DerivationStepName;
  readonly derive: DerivedRowsWriter;
}
