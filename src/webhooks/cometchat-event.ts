import {
  Json,
  PayloadError,
  boundedText,
  id,
  isObject,
  object,
  oneOf,
  optionalId,
  optionalTime,
  time,
} from './payload-reader';

export interface MessageRow {
  id: string;
  conversationId: string;
  sender: string;
  receiver: string;
  receiverType: string;
  category: string | null;
  type: string | null;
  sentAt: number;
  editedAt: number | null;
  deletedAt: number | null;
}

export type ReceiptKind = 'delivered' | 'read';

export interface ReceiptRow {
  messageId: string;
  reader: string;
  kind: ReceiptKind;
  at: number;
  receiverType: string | null;
  receiver: string | null;
  messageSender: string | null;
}

export interface GroupReceiptRow {
  messageId: string;
  kind: 'deliveredToAll' | 'readByAll';
  at: number;
}

export interface ConnectionRow {
  uid: string;
  action: 'connected' | 'disconnected';
  at: number;
  status: 'online' | 'offline';
  sessionKey: string;
  deviceId: string | null;
  platform: string | null;
  connectedAt: number | null;
  /** Legacy `connections[]`: session keys still open after this event; null when not sent. */
  openSessions: string[] | null;
  lastActiveAt: number | null;
}

/** One webhook, read and normalised: what the raw event row and the derived rows need. */
export interface CometChatEvent {
  appId: string;
  trigger: string;
  webhook: string | null;
  uid: string | null;
  /** Event time in epoch ms, or null when the payload carries none. */
  eventAt: number | null;
  naturalKey: string | null;
  message?: MessageRow;
  receipt?: ReceiptRow;
  groupReceipt?: GroupReceiptRow;
  connection?: ConnectionRow;
}

const key = (...parts: (string | number)[]) => JSON.stringify(parts);
const RECEIVER_TYPES = ['user', 'group'] as const;

export const KNOWN_TRIGGERS = [
  'before_message',
  'after_message',
  'message_sent',
  'message_edited',
  'message_deleted',
  'message_delivery_receipt',
  'message_read_receipt',
  'message_delivered_to_all',
  'message_read_by_all',
  'after_connection_status_changed',
  'user_connection_status_changed',
] as const;

/** Reads a parsed webhook body in either CometChat format; throws PayloadError naming the field. */
export function readCometChatEvent(body: unknown): CometChatEvent {
  const envelope = object(body, 'body');
  if (envelope.trigger === undefined) throw new PayloadError('trigger', 'trigger is required');
  if (typeof envelope.trigger !== 'string' || envelope.trigger.trim() === '') {
    throw new PayloadError('trigger', 'trigger must be a non-empty string');
  }
  const trigger = boundedText(envelope.trigger.trim(), 'trigger');
  const base = {
    appId: id(envelope.appId, 'appId'),
    trigger,
    webhook: typeof envelope.webhook === 'string' ? boundedText(envelope.webhook, 'webhook') : null,
  };
  const data = () => object(envelope.data, 'data');

  switch (trigger) {
    case 'before_message': {
      const d = data();
      return {
        ...base,
        uid: optionalId(d.sender, 'data.sender'),
        eventAt: optionalTime(d.sentAt, 'data.sentAt'),
        naturalKey: null,
      };
    }
    case 'after_message':
      return messageEvent(base, readMessage(data(), 'data'), 'message');
    case 'message_sent':
      return messageEvent(
        base,
        readMessage(object(data().message, 'data.message'), 'data.message'),
        'message',
      );
    case 'message_edited': {
      const message = readMessage(object(data().message, 'data.message'), 'data.message');
      if (message.editedAt === null)
        throw new PayloadError('data.message.editedAt', 'data.message.editedAt is required');
      return messageEvent(base, message, 'message_edited', message.editedAt);
    }
    case 'message_deleted': {
      const message = readMessage(object(data().message, 'data.message'), 'data.message');
      if (message.deletedAt === null)
        throw new PayloadError('data.message.deletedAt', 'data.message.deletedAt is required');
      return messageEvent(base, message, 'message_deleted');
    }
    case 'message_delivery_receipt':
    case 'message_read_receipt': {
      const kind: ReceiptKind = trigger === 'message_read_receipt' ? 'read' : 'delivered';
      const d = data();
      const receipt =
        d.body !== undefined ? readCurrentReceipt(d, kind) : readLegacyReceipt(d, kind);
      return {
        ...base,
        uid: receipt.reader,
        eventAt: receipt.at,
        naturalKey: key('receipt', receipt.messageId, receipt.reader, kind),
        receipt,
      };
    }
    case 'message_delivered_to_all':
    case 'message_read_by_all': {
      const body = object(data().body, 'data.body');
      const groupReceipt: GroupReceiptRow = {
        messageId: id(body.messageId, 'data.body.messageId'),
        kind: trigger === 'message_read_by_all' ? 'readByAll' : 'deliveredToAll',
        at: time(body.timestamp, 'data.body.timestamp'),
      };
      return {
        ...base,
        uid: null,
        eventAt: groupReceipt.at,
        naturalKey: key('group_receipt', groupReceipt.messageId, groupReceipt.kind),
        groupReceipt,
      };
    }
    case 'after_connection_status_changed':
      return connectionEvent(base, readLegacyConnection(data()));
    case 'user_connection_status_changed':
      return connectionEvent(base, readCurrentConnection(data()));
    default:
      return { ...base, uid: null, eventAt: null, naturalKey: null };
  }
}

type Base = Pick<CometChatEvent, 'appId' | 'trigger' | 'webhook'>;

function messageEvent(
  base: Base,
  message: MessageRow,
  kind: string,
  version?: number,
): CometChatEvent {
  return {
    ...base,
    uid: message.sender,
    eventAt: message.deletedAt ?? message.editedAt ?? message.sentAt,
    naturalKey: version === undefined ? key(kind, message.id) : key(kind, message.id, version),
    message,
  };
}

function connectionEvent(base: Base, connection: ConnectionRow): CometChatEvent {
  return {
    ...base,
    uid: connection.uid,
    eventAt: connection.at,
    naturalKey: key(
      'connection',
      connection.uid,
      connection.sessionKey,
      connection.action,
      connection.at,
    ),
    connection,
  };
}

function readMessage(m: Json, path: string): MessageRow {
  return {
    id: id(m.id, `${path}.id`),
    conversationId: id(m.conversationId, `${path}.conversationId`),
    sender: id(m.sender, `${path}.sender`),
    receiver: id(m.receiver, `${path}.receiver`),
    receiverType: oneOf(m.receiverType, `${path}.receiverType`, RECEIVER_TYPES),
    category: optionalId(m.category, `${path}.category`),
    type: optionalId(m.type, `${path}.type`),
    sentAt: time(m.sentAt, `${path}.sentAt`),
    editedAt: optionalTime(m.editedAt, `${path}.editedAt`),
    deletedAt: optionalTime(m.deletedAt, `${path}.deletedAt`),
  };
}

function readLegacyReceipt(d: Json, kind: ReceiptKind): ReceiptRow {
  if (d.receiptType !== undefined) {
    const stated = oneOf(d.receiptType, 'data.receiptType', ['delivered', 'read'] as const);
    if (stated !== kind) {
      throw new PayloadError(
        'data.receiptType',
        `data.receiptType "${stated}" does not match the trigger`,
      );
    }
  }
  const atField = kind === 'read' ? 'readAt' : 'deliveredAt';
  return {
    messageId: id(d.messageId, 'data.messageId'),
    reader: id(d.receiptSender, 'data.receiptSender'),
    kind,
    at: time(d[atField], `data.${atField}`),
    receiverType:
      d.receiverType === undefined
        ? null
        : oneOf(d.receiverType, 'data.receiverType', RECEIVER_TYPES),
    receiver: optionalId(d.receiptReceiver, 'data.receiptReceiver'),
    messageSender: optionalId(d.messageSender, 'data.messageSender'),
  };
}

function readCurrentReceipt(d: Json, kind: ReceiptKind): ReceiptRow {
  const body = object(d.body, 'data.body');
  if (body.action !== undefined) {
    const stated = oneOf(body.action, 'data.body.action', ['delivered', 'read'] as const);
    if (stated !== kind) {
      throw new PayloadError(
        'data.body.action',
        `data.body.action "${stated}" does not match the trigger`,
      );
    }
  }
  const user = isObject(body.user) ? body.user : {};
  return {
    messageId: id(body.messageId, 'data.body.messageId'),
    reader: id(d.sender ?? user.uid, 'data.sender'),
    kind,
    at: time(body.timestamp, 'data.body.timestamp'),
    receiverType:
      d.receiverType === undefined
        ? null
        : oneOf(d.receiverType, 'data.receiverType', RECEIVER_TYPES),
    receiver: optionalId(d.receiver, 'data.receiver'),
    messageSender: optionalId(d.messageSender, 'data.messageSender'),
  };
}

function readLegacyConnection(d: Json): ConnectionRow {
  const user = object(d.user, 'data.user');
  const event = object(d.event, 'data.event');
  const eventFor = object(event.event_for, 'data.event.event_for');
  const connections = d.connections;
  if (connections !== undefined && connections !== null && !Array.isArray(connections)) {
    throw new PayloadError('data.connections', 'data.connections must be an array');
  }
  return {
    uid: id(user.uid, 'data.user.uid'),
    action: oneOf(event.type, 'data.event.type', ['connected', 'disconnected'] as const),
    at: time(event.at, 'data.event.at'),
    status: oneOf(user.status, 'data.user.status', ['online', 'offline'] as const),
    sessionKey: id(eventFor.session_id, 'data.event.event_for.session_id'),
    deviceId: optionalId(eventFor.cometchat_device_id, 'data.event.event_for.cometchat_device_id'),
    platform: optionalId(eventFor.platform, 'data.event.event_for.platform'),
    connectedAt: optionalTime(eventFor.connected_at, 'data.event.event_for.connected_at'),
    openSessions: Array.isArray(connections)
      ? connections.map((c, i) =>
          id(object(c, `data.connections[${i}]`).session_id, `data.connections[${i}].session_id`),
        )
      : null,
    lastActiveAt: null,
  };
}

function readCurrentConnection(d: Json): ConnectionRow {
  const user = object(d.user, 'data.user');
  const current = object(d.currentConnection, 'data.currentConnection');
  const connectedAt = time(current.connectedAt, 'data.currentConnection.connectedAt');
  const platform = optionalId(current.platform, 'data.currentConnection.platform');
  return {
    uid: id(user.uid, 'data.user.uid'),
    action: oneOf(current.action, 'data.currentConnection.action', [
      'connected',
      'disconnected',
    ] as const),
    at: time(d.timestamp, 'data.timestamp'),
    status: oneOf(d.status, 'data.status', ['online', 'offline'] as const),
    // The current format has no session id: a connection is its start time on its platform.
    sessionKey: `${connectedAt}:${platform ?? 'unknown'}`,
    deviceId: null,
    platform,
    connectedAt,
    openSessions: null,
    lastActiveAt: optionalTime(user.lastActiveAt, 'data.user.lastActiveAt'),
  };
}
