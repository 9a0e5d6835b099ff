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
  /** The message's sender and group, as the aggregate names them (for a message never seen). */
  messageSender: string | null;
  receiver: string | null;
}

/** What identifies a connection's device and client, as far as the payload tells. */
export interface ConnectionDetail {
  deviceId: string | null;
  platform: string | null;
  userAgent: string | null;
  /** The SDK's version (current format: `appInfo.version`). */
  sdkVersion: string | null;
  apiVersion: string | null;
  /** The web origin the client connected from (current format: `appInfo.origin`). */
  origin: string | null;
}

/** One entry of the legacy `connections[]`: a connection open after the event. */
export interface ListedConnection extends ConnectionDetail {
  sessionKey: string;
  connectedAt: number | null;
}

export interface ConnectionRow extends ConnectionDetail {
  uid: string;
  action: 'connected' | 'disconnected';
  at: number;
  status: 'online' | 'offline';
  sessionKey: string;
  connectedAt: number | null;
  /** Legacy `connections[]`: the connections still open after this event; null when not sent. */
  openConnections: ListedConnection[] | null;
  lastActiveAt: number | null;
}

/** How a group member event changes membership (group_created: the members it lists). */
export type GroupMemberChange =
  'created' | 'joined' | 'added' | 'left' | 'kicked' | 'banned' | 'unbanned';

/** One member named by a group member event. */
export interface GroupMemberRow {
  guid: string;
  uid: string;
  change: GroupMemberChange;
  /** Epoch ms from the payload; null when it carries none (the stored event time is used). */
  at: number | null;
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
  groupMembers?: GroupMemberRow[];
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
  'group_created',
  'group_member_joined',
  'group_member_added',
  'group_member_left',
  'group_member_kicked',
  'group_member_banned',
  'group_member_unbanned',
] as const;

export type KnownTrigger = (typeof KNOWN_TRIGGERS)[number];

const KNOWN = new Set<string>(KNOWN_TRIGGERS);
const isKnownTrigger = (trigger: string): trigger is KnownTrigger => KNOWN.has(trigger);

/**
 * The trigger as a metrics label: known triggers by name, anything else `other` and no trigger
 * at all `none`, so a sender cannot grow the label set without bound.
 */
export function triggerLabel(trigger: unknown): string {
  if (typeof trigger !== 'string' || trigger.trim() === '') {
    return 'none';
  }
  return KNOWN.has(trigger.trim()) ? trigger.trim() : 'other';
}

/** Reads a parsed webhook body in either CometChat format; throws PayloadError naming the field. */
export function readCometChatEvent(body: unknown): CometChatEvent {
  const envelope = object(body, 'body');
  if (envelope.trigger === undefined) {
    throw new PayloadError('trigger', 'trigger is required');
  }
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

  // Over the known triggers and 'other', without a default: a trigger added to KNOWN_TRIGGERS
  // without a case fails the lint (switch-exhaustiveness-check).
  const known: KnownTrigger | 'other' = isKnownTrigger(trigger) ? trigger : 'other';
  switch (known) {
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
      return messageOrAction(base, data(), 'data', null);
    case 'message_sent':
      return messageOrAction(base, object(data().message, 'data.message'), 'data.message', null);
    case 'message_edited':
      return messageOrAction(
        base,
        object(data().message, 'data.message'),
        'data.message',
        'edited',
      );
    case 'message_deleted':
      return messageOrAction(
        base,
        object(data().message, 'data.message'),
        'data.message',
        'deleted',
      );
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
        // The time is part of the key: a second device's receipt at another time is a new event.
        naturalKey: key('receipt', receipt.messageId, receipt.reader, kind, receipt.at),
        receipt,
      };
    }
    case 'message_delivered_to_all':
    case 'message_read_by_all': {
      const d = data();
      const body = object(d.body, 'data.body');
      const groupReceipt: GroupReceiptRow = {
        messageId: id(body.messageId, 'data.body.messageId'),
        kind: trigger === 'message_read_by_all' ? 'readByAll' : 'deliveredToAll',
        at: time(body.timestamp, 'data.body.timestamp'),
        messageSender: optionalId(d.messageSender, 'data.messageSender'),
        receiver: optionalId(d.receiver, 'data.receiver'),
      };
      return {
        ...base,
        uid: null,
        eventAt: groupReceipt.at,
        naturalKey: key(
          'group_receipt',
          groupReceipt.messageId,
          groupReceipt.kind,
          groupReceipt.at,
        ),
        groupReceipt,
      };
    }
    case 'after_connection_status_changed':
      return connectionEvent(base, readLegacyConnection(data()));
    case 'user_connection_status_changed':
      return connectionEvent(base, readCurrentConnection(data()));
    case 'group_created':
    case 'group_member_joined':
    case 'group_member_added':
    case 'group_member_left':
    case 'group_member_kicked':
    case 'group_member_banned':
    case 'group_member_unbanned':
      return groupMemberEvent(base, known, data());
    case 'other':
      return { ...base, uid: null, eventAt: null, naturalKey: null };
  }
}

type Base = Pick<CometChatEvent, 'appId' | 'trigger' | 'webhook'>;

type MessageAction = 'edited' | 'deleted';

/**
 * A message, or an action message that edits or deletes one. CometChat documents message_edited
 * and message_deleted with data.message an action message (its own id, category "action") whose
 * target, carrying editedAt / deletedAt, is data.entities.on.entity; legacy after_message carries
 * the same action messages. Bodies where the message is the edited one itself are read too.
 * Action messages are never conversation messages: an edit or delete updates its target, other
 * actions (group membership and the like) are kept raw only.
 */
function messageOrAction(
  base: Base,
  m: Json,
  path: string,
  expected: MessageAction | null,
): CometChatEvent {
  const category = typeof m.category === 'string' ? m.category.trim().toLowerCase() : null;
  if (category !== 'action') {
    const message = readMessage(m, path);
    if (expected === null) {
      return {
        ...base,
        uid: message.sender,
        eventAt: message.sentAt,
        naturalKey: key('message', message.id),
        message,
      };
    }
    const field = expected === 'edited' ? 'editedAt' : 'deletedAt';
    const at = message[field];
    if (at === null) {
      throw new PayloadError(`${path}.${field}`, `${path}.${field} is required`);
    }
    return actionEvent(base, message.sender, message, expected, at);
  }

  const inner = m.data === undefined ? {} : object(m.data, `${path}.data`);
  const actionPath =
    inner.action !== undefined || m.action === undefined ? 'data.action' : 'action';
  const stated = inner.action ?? m.action;
  const action =
    expected !== null
      ? oneOf(stated, `${path}.${actionPath}`, [expected])
      : typeof stated === 'string' && ['edited', 'deleted'].includes(stated.trim().toLowerCase())
        ? (stated.trim().toLowerCase() as MessageAction)
        : null;
  const actor = optionalId(m.sender, `${path}.sender`);
  if (action === null) {
    const actionId = optionalId(m.id, `${path}.id`);
    return {
      ...base,
      uid: actor,
      eventAt: optionalTime(m.sentAt, `${path}.sentAt`),
      naturalKey: actionId === null ? null : key('message', actionId),
    };
  }

  const entitiesPath = `${path}.data.entities`;
  const on = object(object(inner.entities, entitiesPath).on, `${entitiesPath}.on`);
  const targetPath = `${entitiesPath}.on.entity`;
  const target = readMessage(object(on.entity, targetPath), targetPath);
  const field = action === 'edited' ? 'editedAt' : 'deletedAt';
  // The target's own time, else the action message's: CometChat creates it when the edit happens.
  const at = target[field] ?? optionalTime(m.sentAt, `${path}.sentAt`);
  if (at === null) {
    throw new PayloadError(`${targetPath}.${field}`, `${targetPath}.${field} is required`);
  }
  return actionEvent(base, actor ?? target.sender, { ...target, [field]: at }, action, at);
}

/** An edit or delete: its natural key is (target, action, time), so two edits are two events. */
function actionEvent(
  base: Base,
  uid: string,
  target: MessageRow,
  action: MessageAction,
  at: number,
): CometChatEvent {
  return {
    ...base,
    uid,
    eventAt: at,
    naturalKey: key('message_action', target.id, action, at),
    message: target,
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

const MEMBER_CHANGES: Partial<Record<KnownTrigger, GroupMemberChange>> = {
  group_created: 'created',
  group_member_joined: 'joined',
  group_member_added: 'added',
  group_member_left: 'left',
  group_member_kicked: 'kicked',
  group_member_banned: 'banned',
  group_member_unbanned: 'unbanned',
};

/**
 * A group member event (current format; the legacy events page documents none): the group is
 * `data.group.guid`, the members `data.members`, keyed by uid (group_created without members:
 * `data.group.owner`). No sample carries an event time of its own: a joining member's `joinedAt`,
 * else the group's `updatedAt` (CometChat moves it with each membership change; group_created:
 * `joinedAt`, then `createdAt`); with none of them, the time the event was received.
 */
function groupMemberEvent(base: Base, trigger: KnownTrigger, d: Json): CometChatEvent {
  const change = MEMBER_CHANGES[trigger]!;
  const group = object(d.group, 'data.group');
  const guid = id(group.guid, 'data.group.guid');
  const joins = change === 'created' || change === 'joined' || change === 'added';
  const groupAt =
    change === 'created'
      ? (optionalTime(group.joinedAt, 'data.group.joinedAt') ??
        optionalTime(group.createdAt, 'data.group.createdAt'))
      : optionalTime(group.updatedAt, 'data.group.updatedAt');
  const owner = optionalId(group.owner, 'data.group.owner');
  const listed: [string, Json][] =
    change === 'created' && d.members === undefined
      ? owner === null
        ? []
        : [[owner, { uid: owner }]]
      : Object.entries(object(d.members, 'data.members')).map(([key, value]) => [
          key,
          object(value, `data.members.${key}`),
        ]);
  const groupMembers = listed.map(([key, member]): GroupMemberRow => {
    const path = `data.members.${key}`;
    const joinedAt = joins ? optionalTime(member.joinedAt, `${path}.joinedAt`) : null;
    return { guid, uid: id(member.uid ?? key, `${path}.uid`), change, at: joinedAt ?? groupAt };
  });
  const times = groupMembers.flatMap((m) => (m.at === null ? [] : [m.at]));
  return {
    ...base,
    uid: groupMembers.length === 1 ? groupMembers[0].uid : null,
    eventAt: times.length > 0 ? Math.min(...times) : null,
    naturalKey: null,
    groupMembers,
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
  const uid = id(user.uid, 'data.user.uid');
  const action = oneOf(event.type, 'data.event.type', ['connected', 'disconnected'] as const);
  const at = time(event.at, 'data.event.at');
  const status = oneOf(user.status, 'data.user.status', ['online', 'offline'] as const);
  return {
    ...readLegacyConnectionEntry(eventFor, 'data.event.event_for'),
    uid,
    action,
    at,
    status,
    openConnections: Array.isArray(connections)
      ? connections.map((c, i) =>
          readLegacyConnectionEntry(object(c, `data.connections[${i}]`), `data.connections[${i}]`),
        )
      : null,
    lastActiveAt: null,
  };
}

function readLegacyConnectionEntry(c: Json, path: string): ListedConnection {
  return {
    sessionKey: id(c.session_id, `${path}.session_id`),
    deviceId: optionalId(c.cometchat_device_id, `${path}.cometchat_device_id`),
    platform: optionalId(c.platform, `${path}.platform`),
    connectedAt: optionalTime(c.connected_at, `${path}.connected_at`),
    userAgent: null,
    sdkVersion: null,
    apiVersion: null,
    origin: null,
  };
}

function readCurrentConnection(d: Json): ConnectionRow {
  const user = object(d.user, 'data.user');
  const current = object(d.currentConnection, 'data.currentConnection');
  const connectedAt = time(current.connectedAt, 'data.currentConnection.connectedAt');
  const platform = optionalId(current.platform, 'data.currentConnection.platform');
  const appInfo = isObject(current.appInfo) ? current.appInfo : {};
  return {
    uid: id(user.uid, 'data.user.uid'),
    action: oneOf(current.action, 'data.currentConnection.action', [
      'connected',
      'disconnected',
    ] as const),
    at: time(d.timestamp, 'data.timestamp'),
    status: oneOf(d.status, 'data.status', ['online', 'offline'] as const),
    // The current format has no session id (CometChat's published sample carries none either):
    // a connection is its start time on its platform, the same on its connect and disconnect.
    sessionKey: `${connectedAt}:${platform ?? 'unknown'}`,
    deviceId: null,
    platform,
    userAgent: detail(current.userAgent),
    sdkVersion: detail(appInfo.version),
    apiVersion: detail(appInfo.apiVersion),
    origin: detail(appInfo.origin),
    connectedAt,
    openConnections: null,
    lastActiveAt: optionalTime(user.lastActiveAt, 'data.user.lastActiveAt'),
  };
}

const MAX_DETAIL_LENGTH = 1024;

/**
 * Device and client detail is informative, never required: a value of another type is dropped
 * rather than failing the event, and a long user agent is cut, not refused.
 */
function detail(value: unknown): string | null {
  const text =
    typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
  return text === '' ? null : text.slice(0, MAX_DETAIL_LENGTH);
}
