import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppsDto } from '../src/events/events.dto';
import { afterMessage, currentReceipt } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { get, isoSeconds, postAll } from './setup/http';

const T = 1_763_000_000; // seconds

describe('GET /apps', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ API_KEY: 'apps-key' });
    await resetDatabase();
  });
  afterAll(() => app.close());
  const apps = (query = '') => get(app, `/apps${query}`, { authorization: 'Bearer apps-key' });

  it('answers no apps for an empty log', async () => {
    const res = await apps();
    expect(res.statusCode).toBe(200);
    expect(res.json<AppsDto>()).toEqual({ items: [] });
  });

  it('lists each app of the raw log once, by app id, with its events and latest event time', async () => {
    await postAll(app, [
      afterMessage({ appId: 'app-b', id: '1', sender: 'ann', receiver: 'bob', sentAt: T }),
      afterMessage({ appId: 'app-a', id: '1', sender: 'ann', receiver: 'bob', sentAt: T + 5 }),
      currentReceipt({
        appId: 'app-b',
        messageId: '1',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'read',
        at: T + 60,
      }),
      afterMessage({ appId: 'app-b', id: '2', sender: 'bob', receiver: 'ann', sentAt: T + 30 }),
    ]);
    expect((await apps()).json<AppsDto>()).toEqual({
      items: [
        { appId: 'app-a', events: 1, lastEventAt: isoSeconds(T + 5) },
        { appId: 'app-b', events: 3, lastEventAt: isoSeconds(T + 60) },
      ],
    });
  });

  it('with appId, answers that app only, or nothing', async () => {
    expect((await apps('?appId=app-b')).json<AppsDto>().items.map((a) => a.appId)).toEqual([
      'app-b',
    ]);
    expect((await apps('?appId=app-c')).json<AppsDto>()).toEqual({ items: [] });
  });

  it('needs the API key, and refuses unknown parameters', async () => {
    expect((await get(app, '/apps')).statusCode).toBe(401);
    const res = await apps('?limit=5');
    expect(res.statusCode).toBe(400);
  });
});
