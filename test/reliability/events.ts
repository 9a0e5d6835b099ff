import {
  afterMessage,
  currentConnection,
  currentReceipt,
  groupAggregate,
  legacyConnection,
  legacyReceipt,
  messageEvent,
} from '../factories';

/** One webhook the sender owes the service, tagged so its stored rows can be found again. */
export interface OutgoingEvent {
  /** Unique per run; stored in the body as `reliabilityId`. */
  rid: string;
  kind: Kind;
  body: Buffer;
}

const KINDS = [
  'after_message',
  'message_sent',
  'legacy_receipt',
  'current_receipt',
  'group_aggregate',
  'legacy_connection',
  'current_connection',
  'before_message',
  'unknown_trigger',
] as const;
export type Kind = (typeof KINDS)[number];

/** Rows each kind must leave in a derived table (beyond its raw row in webhook_events). */
export const DERIVED: Partial<Record<Kind, string>> = {
  after_message: 'messages',
  message_sent: 'messages',
  legacy_receipt: 'receipts',
  current_receipt: 'receipts',
  group_aggregate: 'group_receipts',
  legacy_connection: 'connection_events',
  current_connection: 'connection_events',
};

const T0 = 1_700_000_000; // seconds

/**
 * The n-th event of a run: every trigger family in both formats, each with natural keys of its
 * own (message ids, readers, sessions), so none is a legitimate duplicate of another.
 */
export function makeEvent(tag: string, n: number): OutgoingEvent {
  const kind = KINDS[n % KINDS.length];
  const id = `${tag}-${n}`;
  const at = T0 + n;
  // A few dozen readers per message, as in a busy group; not thousands on one.
  const receiptsOf = `${tag}-m${Math.floor(n / 200)}`;
  const body = ((): Record<string, unknown> => {
    switch (kind) {
      case 'after_message':
        return afterMessage({ id, sender: `s-${id}`, receiver: `r-${id}`, sentAt: at });
      case 'message_sent':
        return messageEvent('message_sent', {
          id,
          sender: `s-${id}`,
          receiver: `g-${tag}`,
          receiverType: 'group',
          sentAt: at,
        });
      case 'legacy_receipt':
        return legacyReceipt({
          messageId: receiptsOf,
          reader: `u-${id}`,
          messageSender: 'sender',
          kind: 'delivered',
          at,
        });
      case 'current_receipt':
        return currentReceipt({
          messageId: receiptsOf,
          reader: `u-${id}`,
          messageSender: 'sender',
          kind: 'read',
          at: String(at),
        });
      case 'group_aggregate':
        return groupAggregate({ messageId: id, group: `g-${tag}`, kind: 'readByAll', at });
      case 'legacy_connection':
        return legacyConnection({
          uid: `u-${id}`,
          type: 'connected',
          at: at * 1000,
          status: 'online',
          connection: { session: id, connectedAt: at * 1000 },
        });
      case 'current_connection':
        return currentConnection({
          uid: `u-${id}`,
          action: 'connected',
          at: at * 1000,
          status: 'online',
          connectedAt: at * 1000,
        });
      case 'before_message':
        return {
          trigger: 'before_message',
          appId: 'app-one',
          webhook: 'moderation',
          data: { conversationId: id, sender: `s-${id}`, receiver: 'r', sentAt: at },
        };
      case 'unknown_trigger':
        return { trigger: 'some_future_trigger', appId: 'app-one', data: { id } };
    }
  })();
  return { rid: id, kind, body: Buffer.from(JSON.stringify({ ...body, reliabilityId: id })) };
}
