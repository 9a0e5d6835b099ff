import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { get, post } from './setup/http';

/** CometChat's published samples, verbatim but for JSON mends (see NOTES-connections.md). */
const published = (trigger: string) =>
  readFileSync(path.join(__dirname, 'fixtures', 'published', `${trigger}.json`), 'utf8');

describe('Published connection samples', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  const getOk = async (url: string) => {
    const res = await get(app, url);
    expect(res.statusCode).toBe(200);
    return res.json<Record<string, unknown>>();
  };

  describe('user_connection_status_changed (current format)', () => {
    const sample = published('user_connection_status_changed');
    const session = {
      sessionId: '1696934440982:javascript',
      deviceId: null,
      platform: 'javascript',
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36',
      sdkVersion: '3.0.12',
      apiVersion: 'v3.0',
      origin: 'http://localhost:5173',
      openedBy: 'event',
      connectedAt: '2023-10-10T10:40:40.982Z',
    };

    it('is stored, and the disconnect closes its one session with the device detail', async () => {
      const res = await post(app, sample);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ eventId: expect.any(String), duplicate: false });

      expect(await getOk('/users/cometchat-uid-1/presence')).toEqual({
        uid: 'cometchat-uid-1',
        appId: '<appId>',
        status: 'offline',
        since: '2023-10-10T10:51:43.114Z',
        lastSeenAt: '2023-10-10T10:51:43.114Z',
        lastActiveAt: '2023-09-05T12:24:46.000Z',
        sessions: [],
      });
      expect(await getOk('/users/cometchat-uid-1/sessions')).toEqual({
        items: [
          {
            ...session,
            disconnectedAt: '2023-10-10T10:51:43.114Z',
            durationMs: 662_132,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 662_132,
        nextCursor: null,
      });
      expect(await getOk('/users/cometchat-uid-1/sessions?platform=javascript')).toMatchObject({
        items: [{ sessionId: session.sessionId }],
      });
      expect(await getOk('/users/cometchat-uid-1/sessions?platform=android')).toEqual({
        items: [],
        totalOnlineMs: 0,
        nextCursor: null,
      });
    });

    it('with its connect (the same connection, action connected) opens then closes one session', async () => {
      const connect = JSON.parse(sample) as {
        data: { timestamp: number; status: string; currentConnection: { action: string } };
      };
      connect.data.timestamp = 1696934441000;
      connect.data.status = 'online';
      connect.data.currentConnection.action = 'connected';
      expect((await post(app, JSON.stringify(connect))).statusCode).toBe(200);
      expect(await getOk('/users/cometchat-uid-1/presence')).toMatchObject({
        status: 'online',
        sessions: [session],
      });

      expect((await post(app, sample)).statusCode).toBe(200);
      const { items } = (await getOk('/users/cometchat-uid-1/sessions')) as { items: unknown[] };
      expect(items).toEqual([expect.objectContaining({ ...session, durationMs: 662_132 })]);
    });

    it('a redelivery is a duplicate and changes nothing', async () => {
      const first = (await post(app, sample)).json<{ eventId: string }>();
      const again = await post(app, sample);
      expect(again.json()).toEqual({ eventId: first.eventId, duplicate: true });
      expect(await rows(`SELECT count(*)::int AS n FROM sessions`)).toEqual([{ n: 1 }]);
    });
  });

  describe('after_connection_status_changed (legacy)', () => {
    const sample = published('after_connection_status_changed');

    it('is a template of placeholders: 400 naming the first unusable field, body kept', async () => {
      const res = await post(app, sample);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        statusCode: 400,
        field: 'data.event.type',
        message: 'data.event.type must be one of connected, disconnected',
      });
      const rejected = await rows<{ body: Buffer; field: string }>(
        `SELECT body, field FROM rejected_events`,
      );
      expect(rejected).toHaveLength(1);
      expect(rejected[0].body.toString('utf8')).toBe(sample);
      expect(await rows(`SELECT * FROM sessions`)).toEqual([]);
    });
  });
});
