import {
  afterMessage,
  currentConnection,
  currentReceipt,
  documentedJson,
  groupAggregate,
  legacyConnection,
  legacyReceipt,
  messageEvent,
} from '../test/factories';

export const BENCH_APP = 'bench-app';
const USERS = 10_000;
const GROUPS = 200;
const GROUP_SIZE = 5;
/** Events per episode; see Payloads.episode for the mix. */
const EPISODE = 10;

/** What the correctness check looks for in the derived tables once the event is acked. */
export type Expectation =
  | { table: 'messages'; id: string }
  | { table: 'receipts'; messageId: string; reader: string; kind: 'delivered' | 'read' };

export interface Payload {
  /** Position in the stream: at(index) rebuilds the same payload byte for byte. */
  index: number;
  trigger: string;
  body: string;
  expect?: Expectation;
}

type Json = Record<string, unknown>;
const user = (i: number) => `bench-u${((i % USERS) + USERS) % USERS}`;

/** Real message bodies carry the sender and receiver entities (documented after_message). */
function withEntities(event: Json, message: Json): Json {
  const entity = (uid: string, entityType: 'user' | 'group') => ({
    entity: { uid, name: `Name of ${uid}`, avatar: `https://assets.example.com/${uid}.webp` },
    entityType,
  });
  message.data = {
    ...(message.data as Json),
    entities: {
      sender: entity(message.sender as string, 'user'),
      receiver: entity(message.receiver as string, message.receiverType as 'user' | 'group'),
    },
  };
  return event;
}

/**
 * An endless stream of distinct, realistic webhooks in both CometChat formats. Episode k is:
 * before_message, after_message (1:1), message_sent (group), a legacy delivery and a current read
 * receipt of the 1:1 message, a current delivery and a legacy read receipt of the group message,
 * a group aggregate, a legacy and a current connection event. Groups have fixed members that
 * take turns, so cumulative read receipts imply a few earlier receipts as they would in a real
 * app. Every id, session and time includes the nonce and k, so no body ever repeats.
 */
export class Payloads {
  private n = 0;
  private readonly t0s = Math.floor(Date.now() / 1000) - 86_400;
  private readonly beforeMessage = documentedJson('before_message');

  constructor(
    private readonly nonce: string,
    private readonly appId = BENCH_APP,
  ) {}

  get sent(): number {
    return this.n;
  }

  next(): Payload {
    return this.at(this.n++);
  }

  at(index: number): Payload {
    return { index, ...this.episode(Math.floor(index / EPISODE), index % EPISODE) };
  }

  private episode(k: number, slot: number): Omit<Payload, 'index'> {
    const appId = this.appId;
    const sentAt = this.t0s + k;
    const sender = user(k);
    const receiver = user(k * 31 + 7); // never k itself: 30k + 7 is never a multiple of 10000
    const direct = `${this.nonce}-d${k}`;
    const g = k % GROUPS;
    const turn = Math.floor(k / GROUPS);
    const member = (j: number) => user(USERS - 1 - (g * GROUP_SIZE + (j % GROUP_SIZE)));
    const group = `bench-g${g}`;
    const groupMessage = `${this.nonce}-g${k}`;
    const groupSender = member(turn);
    const groupReader = member(turn + 1);
    const atMs = (this.t0s + k) * 1000;

    switch (slot) {
      case 0: {
        const data = { ...(this.beforeMessage.data as Json) };
        Object.assign(data, {
          conversationId: [sender, receiver].sort().join('_user_'),
          sender,
          receiver,
          sentAt,
          updatedAt: sentAt,
          data: { text: `draft ${this.nonce} ${k}` },
        });
        const event = { ...this.beforeMessage, appId, data };
        return payload(withEntities(event, data));
      }
      case 1: {
        const event = afterMessage({ id: direct, sender, receiver, sentAt, appId });
        return payload(withEntities(event, event.data as Json), { table: 'messages', id: direct });
      }
      case 2: {
        const event = messageEvent('message_sent', {
          id: groupMessage,
          sender: groupSender,
          receiver: group,
          receiverType: 'group',
          sentAt,
          appId,
        });
        return payload(withEntities(event, (event.data as Json).message as Json), {
          table: 'messages',
          id: groupMessage,
        });
      }
      case 3:
        return receipt(
          legacyReceipt({
            messageId: direct,
            reader: receiver,
            messageSender: sender,
            kind: 'delivered',
            at: sentAt + 1,
            appId,
          }),
          direct,
          receiver,
          'delivered',
        );
      case 4:
        return receipt(
          currentReceipt({
            messageId: direct,
            reader: receiver,
            messageSender: sender,
            kind: 'read',
            at: sentAt + 5,
            appId,
          }),
          direct,
          receiver,
          'read',
        );
      case 5:
        return receipt(
          currentReceipt({
            messageId: groupMessage,
            reader: groupReader,
            messageSender: groupSender,
            kind: 'delivered',
            at: sentAt + 2,
            receiverType: 'group',
            receiver: group,
            appId,
          }),
          groupMessage,
          groupReader,
          'delivered',
        );
      case 6:
        return receipt(
          legacyReceipt({
            messageId: groupMessage,
            reader: groupReader,
            messageSender: groupSender,
            kind: 'read',
            at: sentAt + 9,
            receiverType: 'group',
            receiver: group,
            appId,
          }),
          groupMessage,
          groupReader,
          'read',
        );
      case 7:
        return payload(
          groupAggregate({
            messageId: groupMessage,
            group,
            kind: k % 2 === 0 ? 'deliveredToAll' : 'readByAll',
            at: sentAt + 10,
            appId,
          }),
        );
      case 8: {
        const session = { session: `${this.nonce}-s${k}`, connectedAt: atMs };
        return payload(
          legacyConnection({
            uid: user(k * 13),
            type: 'connected',
            at: atMs + 8,
            status: 'online',
            connection: session,
            open: [session],
            appId,
          }),
        );
      }
      default: {
        const connected = k % 2 === 0;
        return payload(
          currentConnection({
            uid: user(k * 29 + 5),
            action: connected ? 'connected' : 'disconnected',
            at: atMs + 9,
            status: connected ? 'online' : 'offline',
            connectedAt: atMs - (connected ? 0 : 60_000),
            appId,
          }),
        );
      }
    }
  }
}

function payload(event: Json, expect?: Expectation): Omit<Payload, 'index'> {
  return { trigger: event.trigger as string, body: JSON.stringify(event), expect };
}

function receipt(
  event: Json,
  messageId: string,
  reader: string,
  kind: 'delivered' | 'read',
): Omit<Payload, 'index'> {
  return payload(event, { table: 'receipts', messageId, reader, kind });
}
