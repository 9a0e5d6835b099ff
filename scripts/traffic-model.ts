// The simulator's model of a CometChat app: people whose devices connect and drop, who chat in
// bursts one-to-one and in groups, and whose devices deliver and read with human delays. It yields
// webhook bodies in both CometChat formats, stamped with the event's own time, in the order and
// with the repeats (retries) and reorderings a real webhook sender produces.

type Json = Record<string, unknown>;
type Format = 'legacy' | 'current';

export interface TrafficOptions {
  appId: string;
  users: number;
  /** Simulated time starts here (ms)... */
  start: number;
  /** ...the live phase starts here (the simulated present: `npm run simulate -- --now`)... */
  liveFrom: number;
  /** ...and everything ends here. */
  end: number;
  /** Target webhooks per second in the live phase. */
  rate: number;
  seed: number;
}

export interface SimEvent {
  /** The event's own time (ms). */
  at: number;
  /** When the simulated CometChat posts it (ms): after `at`, later for retries and stragglers. */
  sendAt: number;
  trigger: string;
  format: Format;
  body: string;
  contentType: string;
  kind: 'event' | 'retry' | 'broken';
}

export interface TrafficCounts {
  messages: number;
  groupMessages: number;
  connects: number;
  disconnects: number;
  disconnectsNeverSent: number;
  deliveryReceipts: number;
  readReceipts: number;
  readsLeftImplied: number;
  retries: number;
  /** Retries of before_message: answered `{}` like the first post, so not seen as duplicates. */
  retriesOfBeforeMessage: number;
  outOfOrder: number;
  broken: number;
}

interface Device {
  id: string;
  platform: string;
}

interface Connection {
  device: Device;
  sessionId: string;
  start: number;
  end: number;
  /** CometChat never tells of this disconnect (the app was killed, the network dropped). */
  dropped: boolean;
}

interface User {
  uid: string;
  /**
   * The format of the user's connection webhooks: one per user, since a legacy event lists the
   * user's open connections by session id, which current-format connections do not have.
   */
  format: Format;
  devices: Device[];
  connections: Connection[];
  friends: User[];
  groups: Group[];
}

interface Group {
  guid: string;
  members: User[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NAMES = [
  'amara', 'bruno', 'chen', 'dalia', 'emeka', 'freya', 'goran', 'hana', 'ivan', 'jun', 'kofi',
  'lena', 'mateo', 'nadia', 'omar', 'priya', 'quinn', 'rosa', 'sven', 'tariq', 'uma', 'viktor',
  'wen', 'ximena', 'yusuf', 'zoe',
]; // prettier-ignore
const PLATFORMS = ['web', 'android', 'ios'];
/** Webhooks a chat burst yields on average, to turn --rate into how often people chat. */
const EVENTS_PER_BURST = 9.5;
/** Bursts per online hour when stamping the past: a lively but ordinary app. */
const HISTORY_BURSTS_PER_HOUR = 1.5;
/** The hour of the simulated day at which the live phase starts. */
const LIVE_HOUR = 15;

/** mulberry32: small, fast and good enough for traffic that must be reproducible by seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A min-heap by sendAt, so events come out in the order a sender would post them. */
class Heap {
  private readonly items: SimEvent[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): SimEvent | undefined {
    return this.items[0];
  }
  push(item: SimEvent): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (a[parent].sendAt <= a[i].sendAt) {
        break;
      }
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }
  pop(): SimEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].sendAt < a[m].sendAt) {
          m = l;
        }
        if (r < a.length && a[r].sendAt < a[m].sendAt) {
          m = r;
        }
        if (m === i) {
          break;
        }
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

export class TrafficModel {
  readonly counts: TrafficCounts = {
    messages: 0,
    groupMessages: 0,
    connects: 0,
    disconnects: 0,
    disconnectsNeverSent: 0,
    deliveryReceipts: 0,
    readReceipts: 0,
    readsLeftImplied: 0,
    retries: 0,
    retriesOfBeforeMessage: 0,
    outOfOrder: 0,
    broken: 0,
  };
  readonly users: User[];
  readonly groups: Group[];
  private readonly rnd: () => number;
  private readonly heap = new Heap();
  private readonly liveBurstsPerHour: number;
  private generatedUntil: number;
  private messageSeq: number;
  private emitted = 0;

  constructor(private readonly o: TrafficOptions) {
    this.rnd = random(o.seed);
    this.messageSeq = Math.floor(this.rnd() * 1000);
    this.users = this.makeUsers();
    this.groups = this.makeGroups();
    for (const user of this.users) {
      user.connections = this.planConnections(user);
    }
    const onlineAtLive = this.users.filter((u) => this.isOnline(u, o.liveFrom)).length;
    this.liveBurstsPerHour = (o.rate * 3600) / (Math.max(1, onlineAtLive) * EVENTS_PER_BURST);
    this.generatedUntil = o.start;
  }

  /** Users online at `at`, as the simulated people really are (dropped connections included). */
  onlineAt(at: number): string[] {
    return this.users.filter((u) => this.isOnline(u, at)).map((u) => u.uid);
  }

  /** Every event still to post, in order (for a whole simulated run at once). */
  rest(): SimEvent[] {
    const events: SimEvent[] = [];
    for (let e = this.next(); e !== undefined; e = this.next()) {
      events.push(e);
    }
    return events;
  }

  /**
   * The next event to post, generating the model window by window: everything generated for
   * [t, t + window) happens at or after t, so events posted before t can no longer be preceded.
   */
  next(): SimEvent | undefined {
    for (;;) {
      const head = this.heap.peek();
      if (head !== undefined && head.sendAt < this.generatedUntil) {
        return this.heap.pop();
      }
      if (this.generatedUntil >= this.o.end) {
        return this.heap.pop();
      }
      const from = this.generatedUntil;
      const to = Math.min(this.o.end, from + (from < this.o.liveFrom ? 10 * MINUTE : MINUTE));
      this.generate(from, to);
      this.generatedUntil = to;
    }
  }

  // --- people -----------------------------------------------------------------------------

  private makeUsers(): User[] {
    return Array.from({ length: this.o.users }, (_, i) => {
      const name = NAMES[i % NAMES.length];
      const uid = i < NAMES.length ? `sim-${name}` : `sim-${name}-${Math.floor(i / NAMES.length)}`;
      const deviceCount = this.rnd() < 0.6 ? 1 : this.rnd() < 0.75 ? 2 : 3;
      const devices = Array.from({ length: deviceCount }, (_, d) => ({
        id: `${uid}-device-${d + 1}`,
        platform: PLATFORMS[(i + d) % PLATFORMS.length],
      }));
      const format: Format = i % 2 === 0 ? 'legacy' : 'current';
      return { uid, format, devices, connections: [], friends: [], groups: [] };
    });
  }

  private makeGroups(): Group[] {
    const users = this.users;
    for (const user of users) {
      const wanted = Math.min(users.length - 1, 2 + Math.floor(this.rnd() * 4));
      while (user.friends.length < wanted) {
        const other = this.pick(users);
        if (other === user || user.friends.includes(other)) {
          continue;
        }
        user.friends.push(other);
        if (!other.friends.includes(user)) {
          other.friends.push(user);
        }
      }
    }
    if (users.length < 3) {
      return [];
    }
    return Array.from({ length: Math.max(1, Math.round(users.length / 6)) }, (_, g) => {
      const size = Math.min(users.length, 3 + Math.floor(this.rnd() * 6));
      const members = [...users].sort(() => this.rnd() - 0.5).slice(0, size);
      const group = { guid: `sim-group-${g + 1}`, members };
      for (const m of members) {
        m.groups.push(group);
      }
      return group;
    });
  }

  /**
   * Busier in the afternoon, quiet at night, so 24 hours of concurrency has a shape. The day is
   * the simulation's own, anchored at `liveFrom` (its mid-afternoon), never the wall clock's: a
   * seed yields the same traffic, relative to its start, whenever it runs.
   */
  private activity(at: number): number {
    const hour = ((((at - this.o.liveFrom) / HOUR + LIVE_HOUR) % 24) + 24) % 24;
    return 0.25 + 0.75 * (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24));
  }

  private planConnections(user: User): Connection[] {
    const connections: Connection[] = [];
    let t = this.o.start - this.rnd() * 3 * HOUR;
    while (t < this.o.end) {
      t += this.lognormal((20 * MINUTE) / this.activity(t), 1.0);
      if (t >= this.o.end) {
        break;
      }
      const main = this.connection(this.pick(user.devices), t, this.lognormal(25 * MINUTE, 0.8));
      connections.push(main);
      let until = main.end;
      if (user.devices.length > 1 && this.rnd() < 0.3) {
        const other = this.pick(user.devices.filter((d) => d !== main.device));
        const second = this.connection(
          other,
          main.start + this.rnd() * 0.7 * (main.end - main.start),
          this.lognormal(5 * MINUTE, 0.7),
        );
        connections.push(second);
        until = Math.max(until, second.end);
      }
      t = until;
    }
    return connections.sort((a, b) => a.start - b.start);
  }

  private connection(device: Device, start: number, length: number): Connection {
    const startMs = Math.round(start);
    return {
      device,
      sessionId: this.hex(16),
      start: startMs,
      end: startMs + Math.max(1000, Math.round(length)),
      dropped: this.rnd() < 0.1,
    };
  }

  private isOnline(user: User, at: number): boolean {
    return user.connections.some((c) => c.start <= at && at < c.end);
  }

  /** The first moment at or after `at` when the user is online; null if never before the end. */
  private nextOnline(user: User, at: number): number | null {
    if (this.isOnline(user, at)) {
      return at;
    }
    const next = user.connections.find((c) => c.start >= at);
    return next === undefined ? null : next.start;
  }

  // --- generation -------------------------------------------------------------------------

  private generate(from: number, to: number): void {
    if (from === this.o.start) {
      this.groupsCreated();
    }
    for (const user of this.users) {
      for (const c of user.connections) {
        // Connections already open when the simulation starts are told with their real start.
        const opensHere = c.start >= from || (from === this.o.start && c.end > from);
        if (opensHere && c.start < to) {
          this.connectionEvent(user, c, 'connected', c.start);
        }
        if (c.end >= from && c.end < to) {
          if (c.dropped) {
            this.counts.disconnectsNeverSent++;
          } else {
            this.connectionEvent(user, c, 'disconnected', c.end);
          }
        }
        // Chat bursts: a Poisson process over the time the user is online within the window.
        const s = Math.max(from, c.start);
        const e = Math.min(to, c.end);
        for (let t = s; t < e;) {
          const perHour = t < this.o.liveFrom ? HISTORY_BURSTS_PER_HOUR : this.liveBurstsPerHour;
          // Two devices at once chat as one person: only the earliest open connection counts.
          t += -Math.log(1 - this.rnd()) * (HOUR / perHour);
          if (t < e && this.primaryAt(user, t) === c) {
            this.burst(user, t);
          }
        }
      }
    }
  }

  /**
   * Every other group (the first, the third…) was created when the simulation starts, with its
   * members: their membership is known. The others' is left to be inferred. Queued directly,
   * drawing no random number, so a seed's other events stay what they were.
   */
  private groupsCreated(): void {
    const at = this.o.start;
    this.groups.forEach((group, g) => {
      if (g % 2 !== 0) {
        return;
      }
      const [owner] = group.members;
      const body = {
        trigger: 'group_created',
        appId: this.o.appId,
        region: 'eu',
        webhook: 'groups',
        data: {
          group: {
            guid: group.guid,
            name: group.guid,
            type: 'public',
            membersCount: group.members.length,
            conversationId: `group_${group.guid}`,
            createdAt: Math.floor(at / 1000),
            joinedAt: Math.floor(at / 1000),
            owner: owner.uid,
          },
          members: Object.fromEntries(
            group.members.map((m) => [m.uid, { uid: m.uid, name: m.uid, role: 'default' }]),
          ),
        },
      };
      this.heap.push({
        at,
        sendAt: at + 100 + g,
        trigger: 'group_created',
        format: 'current',
        body: JSON.stringify(body),
        contentType: 'application/json',
        kind: 'event',
      });
    });
  }

  private primaryAt(user: User, at: number): Connection | undefined {
    return user.connections.find((c) => c.start <= at && at < c.end);
  }

  private connectionEvent(
    user: User,
    c: Connection,
    action: 'connected' | 'disconnected',
    at: number,
  ): void {
    const others = user.connections.filter((o) => o !== c && o.start <= at && at < o.end);
    const open = action === 'connected' ? [...others, c] : others;
    const status = open.length > 0 ? 'online' : 'offline';
    const changed = others.length === 0;
    if (action === 'connected') {
      this.counts.connects++;
    } else {
      this.counts.disconnects++;
    }
    if (user.format === 'legacy') {
      const wire = (x: Connection) => ({
        connected_at: x.start,
        cometchat_device_id: x.device.id,
        session_id: x.sessionId,
        platform: x.device.platform,
      });
      this.emit(at, 'legacy', {
        trigger: 'after_connection_status_changed',
        appId: this.o.appId,
        origin: { platform: 'WEBSOCKET' },
        chatAPIVersion: '3.0',
        region: 'eu',
        webhook: 'presence',
        data: {
          user: { uid: user.uid, status, status_updated: changed, status_updated_at: at },
          event: { type: action, at, event_for: wire(c) },
          connections: open.map(wire),
        },
      });
    } else {
      this.emit(at, 'current', {
        trigger: 'user_connection_status_changed',
        appId: this.o.appId,
        region: 'eu',
        webhook: 'presence',
        data: {
          timestamp: at,
          status,
          userPresenceChanged: changed,
          user: { uid: user.uid, name: user.uid, lastActiveAt: Math.floor(at / 1000) },
          currentConnection: {
            action,
            platform: c.device.platform,
            userAgent: `CometChat-sim/${c.device.platform}`,
            connectedAt: c.start,
            appInfo: { version: '4.0.0', platform: c.device.platform },
          },
        },
      });
    }
  }

  /** A few messages to one friend or group; recipients deliver, read the burst at once, or not. */
  private burst(sender: User, start: number): void {
    const inGroup = sender.groups.length > 0 && (sender.friends.length === 0 || this.rnd() < 0.2);
    const group = inGroup ? this.pick(sender.groups) : null;
    // People mostly write to whoever is around: conversations go back and forth.
    const around = sender.friends.filter((f) => this.isOnline(f, start));
    const friend =
      group !== null
        ? null
        : this.pick(around.length > 0 && this.rnd() < 0.9 ? around : sender.friends);
    if (group === null && friend === null) {
      return;
    }
    const recipients = group ? group.members.filter((m) => m !== sender) : [friend!];
    const receiver = group ? group.guid : friend!.uid;
    const conversationId = group
      ? `group_${group.guid}`
      : [sender.uid, friend!.uid].sort().join('_user_');

    const count = 1 + Math.min(7, Math.floor(Math.log(1 - this.rnd()) / Math.log(0.45)));
    const messages: { id: string; sentAt: number }[] = [];
    let t = start;
    for (let i = 0; i < count; i++) {
      const sentAt = Math.floor(t / 1000) * 1000; // CometChat's message times are in seconds
      const id = this.messageId(sentAt);
      messages.push({ id, sentAt });
      this.message(sender, receiver, group ? 'group' : 'user', conversationId, id, sentAt);
      t += this.lognormal(8000, 0.8);
    }

    const last = messages[messages.length - 1];
    const deliveredAll = new Map<string, { count: number; at: number }>();
    let readers = 0;
    let readByAllAt = 0;
    for (const reader of recipients) {
      for (const m of messages) {
        const delivered = this.deliveryTime(reader, m.sentAt);
        if (delivered === null) {
          continue;
        }
        const all = deliveredAll.get(m.id) ?? { count: 0, at: 0 };
        deliveredAll.set(m.id, { count: all.count + 1, at: Math.max(all.at, delivered) });
        this.receipt('delivered', reader, sender, receiver, group !== null, m.id, delivered);
      }
      if (this.rnd() < (group ? 0.3 : 0.1)) {
        continue;
      } // never read
      const read = this.readTime(reader, last.sentAt);
      if (read === null) {
        continue;
      }
      readers++;
      readByAllAt = Math.max(readByAllAt, read);
      for (const m of messages) {
        // Apps mark the newest message read; CometChat implies the earlier ones.
        if (m !== last && this.rnd() > 0.4) {
          this.counts.readsLeftImplied++;
          continue;
        }
        this.receipt('read', reader, sender, receiver, group !== null, m.id, read);
      }
    }
    if (group) {
      this.counts.groupMessages += messages.length;
      for (const m of messages) {
        const all = deliveredAll.get(m.id);
        if (all && all.count === recipients.length) {
          this.groupAggregate('deliveredToAll', group, m.id, all.at);
        }
      }
      if (readers === recipients.length) {
        this.groupAggregate('readByAll', group, last.id, readByAllAt);
      }
    }
  }

  /** Within a second or two when online; when the reader's device next connects otherwise. */
  private deliveryTime(reader: User, sentAt: number): number | null {
    const online = this.nextOnline(reader, sentAt);
    return online === null ? null : online + this.lognormal(1200, 0.9);
  }

  private readTime(reader: User, sentAt: number): number | null {
    const glance = sentAt + this.lognormal(45_000, 1.3);
    const online = this.nextOnline(reader, glance);
    if (online === null) {
      return null;
    }
    return online === glance ? glance : online + this.lognormal(20_000, 0.8);
  }

  private message(
    sender: User,
    receiver: string,
    receiverType: 'user' | 'group',
    conversationId: string,
    id: string,
    sentAt: number,
  ): void {
    this.counts.messages++;
    const seconds = Math.floor(sentAt / 1000);
    const fields = {
      conversationId,
      sender: sender.uid,
      receiverType,
      receiver,
      category: 'message',
      type: 'text',
      data: { text: `Message ${id} from ${sender.uid}` },
    };
    if (this.rnd() < 0.5) {
      if (this.rnd() < 0.3) {
        this.emit(sentAt, 'legacy', {
          trigger: 'before_message',
          appId: this.o.appId,
          webhook: 'send-message',
          data: { ...fields, sentAt: seconds },
        });
      }
      this.emit(sentAt, 'legacy', {
        trigger: 'after_message',
        appId: this.o.appId,
        webhook: 'send-message',
        data: { id: this.rnd() < 0.1 ? Number(id) : id, ...fields, sentAt: seconds },
      });
    } else {
      this.emit(sentAt, 'current', this.currentMessage('message_sent', id, fields, seconds));
    }
    if (this.rnd() < 0.03) {
      const editedAt = sentAt + this.lognormal(30_000, 0.8);
      this.emit(
        editedAt,
        'current',
        this.currentMessage('message_edited', id, fields, seconds, {
          editedAt: Math.floor(editedAt / 1000),
        }),
      );
    } else if (this.rnd() < 0.02) {
      const deletedAt = sentAt + this.lognormal(60_000, 1);
      this.emit(
        deletedAt,
        'current',
        this.currentMessage('message_deleted', id, fields, seconds, {
          deletedAt: Math.floor(deletedAt / 1000),
        }),
      );
    }
  }

  private currentMessage(
    trigger: string,
    id: string,
    fields: Json,
    sentAt: number,
    extra: Json = {},
  ): Json {
    return {
      trigger,
      appId: this.o.appId,
      region: 'eu',
      webhook: 'messages',
      data: { message: { id, ...fields, sentAt, ...extra } },
    };
  }

  private receipt(
    kind: 'delivered' | 'read',
    reader: User,
    sender: User,
    receiver: string,
    inGroup: boolean,
    messageId: string,
    at: number,
  ): void {
    if (kind === 'read') {
      this.counts.readReceipts++;
    } else {
      this.counts.deliveryReceipts++;
    }
    const seconds = Math.floor(at / 1000);
    const trigger = kind === 'read' ? 'message_read_receipt' : 'message_delivery_receipt';
    const receiverType = inGroup ? 'group' : 'user';
    if (this.rnd() < 0.5) {
      this.emit(at, 'legacy', {
        trigger,
        appId: this.o.appId,
        origin: { platform: 'WEBSOCKET' },
        chatAPIVersion: '3.0',
        region: 'eu',
        webhook: 'receipts',
        data: {
          messageId,
          receiptType: kind,
          [kind === 'read' ? 'readAt' : 'deliveredAt']:
            this.rnd() < 0.1 ? String(seconds) : seconds,
          messageSender: sender.uid,
          receiptSender: reader.uid,
          receiptReceiver: inGroup ? receiver : sender.uid,
          receiverType,
        },
      });
    } else {
      this.emit(at, 'current', {
        trigger,
        appId: this.o.appId,
        region: 'eu',
        webhook: 'receipts',
        data: {
          sender: reader.uid,
          receiver: inGroup ? receiver : sender.uid,
          receiverType,
          messageSender: sender.uid,
          type: 'receipts',
          body: {
            action: kind,
            messageId,
            timestamp: seconds,
            user: { uid: reader.uid, name: reader.uid },
          },
        },
      });
    }
  }

  private groupAggregate(
    kind: 'deliveredToAll' | 'readByAll',
    group: Group,
    messageId: string,
    at: number,
  ): void {
    this.emit(at, 'current', {
      trigger: kind === 'readByAll' ? 'message_read_by_all' : 'message_delivered_to_all',
      appId: this.o.appId,
      region: 'eu',
      webhook: 'receipts',
      data: {
        sender: 'app_system',
        receiver: group.guid,
        receiverType: 'group',
        type: 'receipts',
        body: { action: kind, messageId, timestamp: Math.floor(at / 1000) },
      },
    });
  }

  /**
   * Queues one webhook as CometChat would post it: a little after the event, sometimes much
   * later (out of order), sometimes again with the same bytes (retries after 10 s and 30 s), and
   * now and then broken on the way.
   */
  private emit(at: number, format: Format, body: Json): void {
    at = Math.round(at);
    if (at >= this.o.end) {
      return;
    }
    const trigger = body.trigger as string;
    const contentType =
      this.rnd() < 0.05
        ? 'Application/json'
        : this.rnd() < 0.1
          ? 'application/json; charset=utf-8'
          : 'application/json';
    let sendAt = at + this.lognormal(80, 0.5);
    if (this.rnd() < 0.05) {
      sendAt += 1000 + this.rnd() * 25_000;
      this.counts.outOfOrder++;
    }
    this.emitted++;
    // The 25th webhook is always broken, so every run shows a rejected event; then 1 in 400.
    if (this.emitted === 25 || this.rnd() < 0.0025) {
      this.counts.broken++;
      this.heap.push({
        at,
        sendAt,
        trigger,
        format,
        body: this.broken(body),
        contentType,
        kind: 'broken',
      });
      return;
    }
    const text = JSON.stringify(body);
    this.heap.push({ at, sendAt, trigger, format, body: text, contentType, kind: 'event' });
    if (this.rnd() < 0.03) {
      for (const delay of this.rnd() < 0.3 ? [10_000, 30_000] : [10_000]) {
        this.counts.retries++;
        if (trigger === 'before_message') {
          this.counts.retriesOfBeforeMessage++;
        }
        const retry = { at, sendAt: sendAt + delay, trigger, format, body: text, contentType };
        this.heap.push({ ...retry, kind: 'retry' });
      }
    }
  }

  /** What goes wrong in the wild: a cut-off body, no trigger, no app, a time that is not a time. */
  private broken(body: Json): string {
    const data = body.data as Json;
    switch (Math.floor(this.rnd() * 3)) {
      case 0:
        return JSON.stringify(body).slice(0, 120);
      case 1:
        return JSON.stringify({ ...body, trigger: undefined });
      default:
        if (isMessage(data.message)) {
          return JSON.stringify({
            ...body,
            data: { message: { ...data.message, sentAt: 'yesterday' } },
          });
        }
        if ('sentAt' in data) {
          return JSON.stringify({ ...body, data: { ...data, sentAt: 'yesterday' } });
        }
        return JSON.stringify({ ...body, appId: undefined });
    }
  }

  // --- helpers ----------------------------------------------------------------------------

  /** Increasing with time like CometChat's ids, unique per run and unlikely to meet another run's. */
  private messageId(sentAt: number): string {
    this.messageSeq = (this.messageSeq + 1) % 1000;
    return String(sentAt * 1000 + this.messageSeq);
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.rnd() * items.length)];
  }

  private hex(length: number): string {
    let text = '';
    while (text.length < length) {
      text += Math.floor(this.rnd() * 16).toString(16);
    }
    return text;
  }

  /** Log-normal around a median: most people are quick, a few take very long. */
  private lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * normalFrom(this.rnd(), this.rnd()));
  }
}

function normalFrom(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1 * 0.999999)) * Math.cos(2 * Math.PI * u2);
}

const isMessage = (value: unknown): value is Json => typeof value === 'object' && value !== null;
