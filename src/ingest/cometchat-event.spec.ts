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
});
