import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { post } from './setup/http';

describe('API_KEY', () => {
  let app: NestFastifyApplication;
  const KEY = 'query-key-0123456789';

  beforeAll(async () => {
    app = await startApp({ API_KEY: KEY });
    await resetDatabase();
  });
  afterAll(() => app.close());

  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer not-the-key' }],
    ['the key as Basic', { authorization: `Basic ${Buffer.from(KEY).toString('base64')}` }],
  ])('refuses queries with %s', async (_, headers) => {
    for (const url of ['/events', '/events/rejected']) {
      const res = await app.inject({ method: 'GET', url, headers });
      expect(res.statusCode).toBe(401);
    }
  });

  it('answers queries with the key', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/events',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('does not ask CometChat or health checks for it', async () => {
    const webhook = await post(app, afterMessage({ id: '1', sender: 'a', receiver: 'b' }));
    expect(webhook.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
