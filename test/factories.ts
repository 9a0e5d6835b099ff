import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Payload builders for every trigger in both CometChat formats; override any part. */
type Json = Record<string, unknown>;

export const APP = 'app-one';
const T0 = 1_700_000_000; // seconds

export function documented(name: string, variant: 'json' | 'verbatim.txt' = 'json'): string {
  return readFileSync(path.join(__dirname, 'fixtures', 'documented', `${name}.${variant}`), 'utf8');
}

export function documentedJson(name: string): Json {
  return JSON.parse(documented(name)) as Json;
}

interface MessageOptions {
  id: string;
  sender: string;
  receiver: string;
  receiverType?: 'user' | 'group';
  sentAt?: number | string;
  appId?: string;
  conversationId?: string;
}

const conversationOf = (o: MessageOptions) =>
  o.conversationId ??
  ((o.receiverType ?? 'user') === 'group'
    ? `group_${o.receiver}`
    : [o.sender, o.receiver].sort().join('_user_'));

/** Legacy after_message. */
export function afterMessage(o: MessageOptions): Json {
  return {
    trigger: 'after_message',
    appId: o.appId ?? APP,
    webhook: 'send-message',
    data: {
      id: o.id,
      conversationId: conversationOf(o),
      sender: o.sender,
      receiverType: o.receiverType ?? 'user',
      receiver: o.receiver,
      category: 'message',
      type: 'text',
      data: { text: `message ${o.id}` },
      sentAt: o.sentAt ?? T0,
      updatedAt: o.sentAt ?? T0,
    },
  };
}

/** Current-format message_sent / message_edited / message_deleted. */
export function messageEvent(
  trigger: 'message_sent' | 'message_edited' | 'message_deleted',
  o: MessageOptions & { editedAt?: number; deletedAt?: number },
): Json {
  return {
    trigger,
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'messages',
    data: {
      message: {
        id: o.id,
        conversationId: conversationOf(o),
        sender: o.sender,
        receiverType: o.receiverType ?? 'user',
        receiver: o.receiver,
        category: 'message',
        type: 'text',
        data: { text: `message ${o.id}` },
        sentAt: o.sentAt ?? T0,
        ...(o.editedAt !== undefined ? { editedAt: o.editedAt } : {}),
        ...(o.deletedAt !== undefined ? { deletedAt: o.deletedAt } : {}),
      },
    },
  };
}

/**
 * An edit or delete as CometChat documents it: an action message (its own id, category "action")
 * whose target, with editedAt / deletedAt, is data.entities.on.entity. `message_edited` /
 * `message_deleted` carry it in data.message; legacy `after_message` carries it as data.
 */
export function actionMessage(
  trigger: 'message_edited' | 'message_deleted' | 'after_message',
  o: MessageOptions & { actionId: string; action: 'edited' | 'deleted'; at: number },
): Json {
  const target = {
    id: o.id,
    conversationId: conversationOf(o),
    sender: o.sender,
    receiverType: o.receiverType ?? 'user',
    receiver: o.receiver,
    category: 'message',
    type: 'text',
    data: { text: `message ${o.id}` },
    sentAt: o.sentAt ?? T0,
    [o.action === 'edited' ? 'editedAt' : 'deletedAt']: o.at,
    [o.action === 'edited' ? 'editedBy' : 'deletedBy']: o.sender,
    updatedAt: o.at,
  };
  const action = {
    id: o.actionId,
    conversationId: conversationOf(o),
    sender: o.sender,
    receiverType: o.receiverType ?? 'user',
    receiver: o.receiver,
    category: 'action',
    type: 'message',
    data: {
      action: o.action,
      entities: {
        by: { entity: { uid: o.sender }, entityType: 'user' },
        for: { entity: { uid: o.receiver }, entityType: o.receiverType ?? 'user' },
        on: { entity: target, entityType: 'message' },
      },
    },
    sentAt: o.at,
    updatedAt: o.at,
  };
  return trigger === 'after_message'
    ? { trigger, appId: o.appId ?? APP, webhook: 'send-message', data: action }
    : {
        trigger,
        appId: o.appId ?? APP,
        region: 'eu',
        webhook: 'messages',
        data: { message: action },
      };
}

interface ReceiptOptions {
  messageId: string;
  reader: string;
  messageSender: string;
  kind: 'delivered' | 'read';
  at: number | string;
  receiverType?: 'user' | 'group';
  receiver?: string;
  appId?: string;
}

/** Legacy message_delivery_receipt / message_read_receipt. */
export function legacyReceipt(o: ReceiptOptions): Json {
  return {
    trigger: o.kind === 'read' ? 'message_read_receipt' : 'message_delivery_receipt',
    appId: o.appId ?? APP,
    origin: { platform: 'WEBSOCKET' },
    chatAPIVersion: '3.0',
    region: 'us',
    webhook: 'receipts',
    data: {
      messageId: o.messageId,
      receiptType: o.kind,
      [o.kind === 'read' ? 'readAt' : 'deliveredAt']: o.at,
      messageSender: o.messageSender,
      receiptSender: o.reader,
      receiptReceiver: o.receiver ?? o.messageSender,
      receiverType: o.receiverType ?? 'user',
    },
  };
}

/** Current-format receipt: the reader is data.sender, the details in data.body. */
export function currentReceipt(o: ReceiptOptions): Json {
  return {
    trigger: o.kind === 'read' ? 'message_read_receipt' : 'message_delivery_receipt',
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'receipts',
    data: {
      sender: o.reader,
      receiver: o.receiver ?? o.messageSender,
      receiverType: o.receiverType ?? 'user',
      messageSender: o.messageSender,
      type: 'receipts',
      body: {
        action: o.kind,
        messageId: o.messageId,
        timestamp: o.at,
        user: { uid: o.reader, name: o.reader },
      },
    },
  };
}

/** Current-format group aggregate: message_delivered_to_all / message_read_by_all. */
export function groupAggregate(o: {
  messageId: string;
  group: string;
  kind: 'deliveredToAll' | 'readByAll';
  at: number;
  messageSender?: string;
  appId?: string;
}): Json {
  return {
    trigger: o.kind === 'readByAll' ? 'message_read_by_all' : 'message_delivered_to_all',
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'receipts',
    data: {
      sender: 'app_system',
      receiver: o.group,
      receiverType: 'group',
      ...(o.messageSender === undefined ? {} : { messageSender: o.messageSender }),
      type: 'receipts',
      body: { action: o.kind, messageId: o.messageId, timestamp: o.at },
    },
  };
}

interface Connection {
  session: string;
  device?: string;
  platform?: string;
  connectedAt: number | string;
}

/** Legacy after_connection_status_changed; times in ms. */
export function legacyConnection(o: {
  uid: string;
  type: 'connected' | 'disconnected';
  at: number | string;
  status: 'online' | 'offline';
  connection: Connection;
  open?: Connection[];
  appId?: string;
}): Json {
  const wire = (c: Connection) => ({
    connected_at: c.connectedAt,
    cometchat_device_id: c.device ?? `device-${c.session}`,
    session_id: c.session,
    platform: c.platform ?? 'web',
  });
  return {
    trigger: 'after_connection_status_changed',
    appId: o.appId ?? APP,
    origin: { platform: 'WEBSOCKET' },
    chatAPIVersion: '3.0',
    region: 'us',
    webhook: 'presence',
    data: {
      user: { uid: o.uid, status: o.status, status_updated: true, status_updated_at: o.at },
      event: { type: o.type, at: o.at, event_for: wire(o.connection) },
      ...(o.open ? { connections: o.open.map(wire) } : {}),
    },
  };
}

/** Current-format user_connection_status_changed; times in ms, lastActiveAt in seconds. */
export function currentConnection(o: {
  uid: string;
  action: 'connected' | 'disconnected';
  at: number | string;
  status: 'online' | 'offline';
  connectedAt: number | string;
  platform?: string;
  lastActiveAt?: number;
  appId?: string;
}): Json {
  return {
    trigger: 'user_connection_status_changed',
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'presence',
    data: {
      timestamp: o.at,
      status: o.status,
      userPresenceChanged: true,
      user: {
        uid: o.uid,
        name: o.uid,
        lastActiveAt: o.lastActiveAt ?? Math.floor(Number(o.at) / 1000),
      },
      currentConnection: {
        action: o.action,
        platform: o.platform ?? 'web',
        userAgent: 'Mozilla/5.0',
        connectedAt: o.connectedAt,
        appInfo: { version: '4.0.0', platform: o.platform ?? 'web' },
      },
    },
  };
}

/** A current-format session: its connect and, unless `end` is null (still open), its disconnect. */
export function currentSession(
  uid: string,
  platform: string,
  start: number,
  end: number | null,
  appId?: string,
): Json[] {
  const event = (action: 'connected' | 'disconnected', at: number) =>
    currentConnection({
      uid,
      action,
      at,
      status: action === 'connected' ? 'online' : 'offline',
      connectedAt: start,
      platform,
      appId,
    });
  return end === null
    ? [event('connected', start)]
    : [event('connected', start), event('disconnected', end)];
}

type GroupMemberTrigger =
  | 'group_member_joined'
  | 'group_member_added'
  | 'group_member_left'
  | 'group_member_kicked'
  | 'group_member_banned'
  | 'group_member_unbanned';

const groupEntity = (guid: string, extra: Json) => ({
  guid,
  name: `Group ${guid}`,
  type: 'public',
  membersCount: 2,
  conversationId: `group_${guid}`,
  createdAt: T0,
  owner: 'owner',
  ...extra,
});

const memberEntity = (uid: string, extra: Json = {}) => ({
  uid,
  name: uid,
  status: 'available',
  role: 'default',
  lastActiveAt: T0,
  ...extra,
});

/**
 * A group member event shaped like CometChat's published samples: `at` (seconds) is the group's
 * updatedAt (omitted when undefined: the store then takes the time it received the event);
 * `joinedAt` goes on each member.
 */
export function groupMemberEvent(
  trigger: GroupMemberTrigger,
  o: {
    group: string;
    members: string[];
    at?: number;
    joinedAt?: number;
    by?: string;
    appId?: string;
  },
): Json {
  return {
    trigger,
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'groups',
    data: {
      group: groupEntity(o.group, o.at === undefined ? {} : { updatedAt: o.at }),
      members: Object.fromEntries(
        o.members.map((uid) => [
          uid,
          memberEntity(uid, o.joinedAt === undefined ? {} : { joinedAt: o.joinedAt }),
        ]),
      ),
      ...(o.by === undefined ? {} : { by: memberEntity(o.by) }),
    },
  };
}

/** group_created as CometChat's sample has it: the owner joined at the group's creation. */
export function groupCreated(o: {
  group: string;
  owner: string;
  at: number;
  members?: string[];
  appId?: string;
}): Json {
  return {
    trigger: 'group_created',
    appId: o.appId ?? APP,
    region: 'eu',
    webhook: 'groups',
    data: {
      group: groupEntity(o.group, {
        owner: o.owner,
        createdAt: o.at,
        joinedAt: o.at,
        scope: 'admin',
        hasJoined: true,
      }),
      members: Object.fromEntries((o.members ?? [o.owner]).map((uid) => [uid, memberEntity(uid)])),
    },
  };
}
