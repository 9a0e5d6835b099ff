import { readCometChatEvent } from './cometchat-event';
import { PayloadError } from './payload-reader';

describe(readCometChatEvent.name, () => {
  const connection = (at: unknown) => ({
    trigger: 'user_connection_status_changed',
    appId: 'app',
    data: {
      timestamp: at,
      status: 'ONLINE',
      user: { uid: 'u1', lastActiveAt: '1700000000' },
      currentConnection: { action: 'connected', platform: 'web', connectedAt: 1700000000000 },
    },
  });

  it('reads seconds and milliseconds, numbers and numeric strings, to the same instant', () => {
    const times = [1700000000, '1700000000', 1700000000000, '1700000000000'].map(
      (at) => readCometChatEvent(connection(at)).eventAt,
    );
    expect(times).toEqual(Array(4).fill(1700000000000));
  });

  it('keys a current-format connection by its start and platform', () => {
    const sut = readCometChatEvent(connection(1700000000500));
    expect(sut.connection).toMatchObject({
      sessionKey: '1700000000000:web',
      status: 'online',
      lastActiveAt: 1700000000000,
    });
    expect(sut.naturalKey).toBe(
      JSON.stringify(['connection', 'u1', '1700000000000:web', 'connected', 1700000000500]),
    );
  });

  it.each([
    [{ ...connection(1), appId: 12345 }, null],
    [{ ...connection('soon') }, 'data.timestamp'],
    [{ ...connection(-5) }, 'data.timestamp'],
    [{ ...connection(1e20) }, 'data.timestamp'],
    [{ ...connection(1), appId: 'x'.repeat(256) }, 'appId'],
    [{ ...connection(1), trigger: 42 }, 'trigger'],
    [[1, 2], 'body'],
  ])('checks %j (bad field: %s)', (body, field) => {
    if (field === null) {
      expect(readCometChatEvent(body).appId).toBe('12345');
      return;
    }
    expect(() => readCometChatEvent(body)).toThrow(PayloadError);
    try {
      readCometChatEvent(body);
    } catch (error) {
      expect((error as PayloadError).field).toBe(field);
    }
  });

  it('refuses a legacy receipt whose receiptType contradicts its trigger', () => {
    const body = {
      trigger: 'message_read_receipt',
      appId: 'app',
      data: { messageId: '1', receiptType: 'delivered', deliveredAt: 1, receiptSender: 'b' },
    };
    expect(() => readCometChatEvent(body)).toThrow(
      'data.receiptType "delivered" does not match the trigger',
    );
  });

  describe('group member events', () => {
    const member = (trigger: string, data: Record<string, unknown>) => ({
      trigger,
      appId: 'app',
      data,
    });
    const group = { guid: 'g1', updatedAt: 1700000100, createdAt: 1700000000, owner: 'o' };

    it("reads every listed member, at a joining member's joinedAt or else the group's updatedAt", () => {
      const sut = readCometChatEvent(
        member('group_member_added', {
          group,
          members: { a: { uid: 'a', joinedAt: 1700000050 }, b: { uid: 'b' } },
        }),
      );
      expect(sut.groupMembers).toEqual([
        { guid: 'g1', uid: 'a', change: 'added', at: 1700000050000 },
        { guid: 'g1', uid: 'b', change: 'added', at: 1700000100000 },
      ]);
      expect(sut).toMatchObject({ uid: null, eventAt: 1700000050000, naturalKey: null });
    });

    it('ignores joinedAt on a leave, and leaves the time to the store when none is given', () => {
      const left = readCometChatEvent(
        member('group_member_left', { group, members: { a: { uid: 'a', joinedAt: 1 } } }),
      );
      expect(left.groupMembers).toEqual([
        { guid: 'g1', uid: 'a', change: 'left', at: 1700000100000 },
      ]);
      const kicked = readCometChatEvent(
        member('group_member_kicked', { group: { guid: 'g1' }, members: { a: {} } }),
      );
      expect(kicked).toMatchObject({ uid: 'a', eventAt: null });
      expect(kicked.groupMembers).toEqual([{ guid: 'g1', uid: 'a', change: 'kicked', at: null }]);
    });

    it('makes the owner the member of a group_created without members, at its creation', () => {
      const sut = readCometChatEvent(member('group_created', { group }));
      expect(sut.groupMembers).toEqual([
        { guid: 'g1', uid: 'o', change: 'created', at: 1700000000000 },
      ]);
    });

    it.each([
      [member('group_member_joined', { members: { a: { uid: 'a' } } }), 'data.group'],
      [member('group_member_joined', { group: {}, members: {} }), 'data.group.guid'],
      [member('group_member_banned', { group }), 'data.members'],
      [member('group_member_left', { group, members: { a: 5 } }), 'data.members.a'],
      [
        member('group_member_left', { group: { ...group, updatedAt: 'x' }, members: {} }),
        'data.group.updatedAt',
      ],
    ])('refuses a member event without what it needs (%#), naming the field', (body, field) => {
      expect(() => readCometChatEvent(body)).toThrow(
        expect.objectContaining({ field }) as PayloadError,
      );
    });
  });
});
