import { Writable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage } from './factories';
import { startApp } from './setup/test-app';
import { post } from './setup/http';

// nestjs-pino keeps one pino-http instance per process (per Jest test file here): this file's
// single app is the first, so its logger is the one configured below.
describe('structured logs', () => {
  const PASSWORD = 'webhook-secret-31337';
  const BASIC = `Basic ${Buffer.from(`cometchat:${PASSWORD}`).toString('base64')}`;
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(chunk.toString());
        for (const line of chunk.toString().split('\n')) {
          if (line !== '') {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          }
        }
        done();
      },
    });
    // Port 1 refuses at once: every webhook is answered 503 and the exception filter logs why.
    app = await startApp(
      { LOG_LEVEL: 'log', WEBHOOK_USERNAME: 'cometchat', WEBHOOK_PASSWORD: PASSWORD },
      'postgresql://nobody@127.0.0.1:1/nothing',
      { logDestination: sink },
    );
  });
  afterAll(() => app?.close());

  const postWith = (headers: Record<string, string>) =>
    post(app, afterMessage({ id: 'logged-1', sender: 'alice', receiver: 'bob' }), {
      authorization: BASIC,
      ...headers,
    });

  it("puts the caller's x-request-id on every line of the request, and echoes it", async () => {
    const res = await postWith({ 'x-request-id': 'cometchat-delivery-42' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['x-request-id']).toBe('cometchat-delivery-42');

    const mine = lines.filter((l) => l.reqId === 'cometchat-delivery-42');
    expect(mine).toEqual(
      expect.arrayContaining([
        // The exception filter's line, through pino.
        expect.objectContaining({
          level: 40,
          context: 'Exceptions',
          msg: expect.stringContaining('database unavailable'),
        }),
        // The access line.
        expect.objectContaining({
          level: 50,
          req: expect.objectContaining({ method: 'POST', url: '/webhooks/cometchat' }),
          res: { statusCode: 503 },
          responseTime: expect.any(Number),
        }),
      ]),
    );
  });

  it('gives a request without a usable id a fresh one', async () => {
    const res = await postWith({ 'x-request-id': 'x'.repeat(500) });
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => l.reqId === id)).toBe(true);
  });

  it('logs neither bodies nor credentials', async () => {
    await postWith({});
    const text = raw.join('');
    expect(text).toContain('"authorization":"[redacted]"');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(BASIC.slice('Basic '.length));
    expect(text).not.toContain('logged-1'); // the message id in the body
  });

  it("never logs a query's API key (the dashboard sends it as a header)", async () => {
    const key = 'dashboard-key-0123456789';
    await app.inject({
      method: 'GET',
      url: '/presence/online?appId=app-one',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(raw.join('')).not.toContain(key);
  });

  it('writes start-up lines through the same logger, as JSON', () => {
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 30, msg: 'Nest application successfully started' }),
      ]),
    );
  });
});
