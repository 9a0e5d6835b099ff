import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage, legacyReceipt } from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { post } from './setup/http';

/** No error answer quotes PostgreSQL. */
const DATABASE_TEXT = /btree|index row|SQLSTATE|relation|violates|postgres|column|syntax error at/i;

describe('hostile webhooks', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  describe('numeric ids beyond 2^53 keep their exact digits', () => {
    const body = (id: string) =>
      JSON.stringify(afterMessage({ id: 'ID', sender: 'alice', receiver: 'bob' })).replace(
        '"id":"ID"',
        `"id":${id}`,
      );

    it('stores 9007199254740993 and 9007199254740992 as two messages', async () => {
      for (const id of ['9007199254740993', '9007199254740992', '-9007199254740993']) {
        const res = await post(app, body(id));
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ duplicate: false });
      }
      expect(await rows(`SELECT id FROM messages ORDER BY id`)).toEqual([
        { id: '-9007199254740993' },
        { id: '9007199254740992' },
        { id: '9007199254740993' },
      ]);
      const receipt = JSON.stringify(
        legacyReceipt({
          messageId: 'ID',
          kind: 'read',
          reader: 'bob',
          messageSender: 'alice',
          at: 1_700_000_100,
        }),
      ).replace('"messageId":"ID"', '"messageId":9007199254740993');
      expect((await post(app, receipt)).statusCode).toBe(200);
      const answer = await app.inject({
        method: 'GET',
        url: '/messages/9007199254740993/receipts',
      });
      expect(answer.json()).toMatchObject({
        messageId: '9007199254740993',
        read: [{ uid: 'bob', latencyMs: 100_000 }],
      });
      // The raw event keeps the number as sent, digit for digit.
      const [raw] = await rows<{ sent: string }>(
        `SELECT body->'data'->>'id' AS sent FROM webhook_events ORDER BY id LIMIT 1`,
      );
      expect(raw.sent).toBe('9007199254740993');
    });

    it('refuses a time that is an unsafe integer as out of range, naming the field', async () => {
      const res = await post(
        app,
        JSON.stringify(afterMessage({ id: 'm', sender: 'a', receiver: 'b' })).replace(
          '"sentAt":1700000000',
          '"sentAt":9007199254740993',
        ),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        field: 'data.sentAt',
        message: 'data.sentAt is out of range',
      });
    });
  });

  describe('every stored identifier is bounded, and no answer carries database text', () => {
    const long = 'x'.repeat(8192);
    const message = afterMessage({ id: 'm', sender: 'alice', receiver: 'bob' });
    it.each([
      ['trigger', { ...message, trigger: long }],
      ['trigger', { ...message, trigger: `after_message${long}` }],
      ['webhook', { ...message, webhook: long }],
      ['appId', { ...message, appId: long }],
      ['data.id', { ...message, data: { ...(message.data as object), id: long } }],
      ['data.sender', { ...message, data: { ...(message.data as object), sender: long } }],
    ])('%s of 8 KB: 400 naming it, kept as rejected', async (field, body) => {
      const res = await post(app, JSON.stringify(body));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        field,
        message: `${field} must be at most 255 characters`,
      });
      expect(res.body).not.toMatch(DATABASE_TEXT);
      expect(await rows(`SELECT field FROM rejected_events`)).toEqual([{ field }]);
      expect(await rows(`SELECT id FROM webhook_events`)).toEqual([]);
    });

    it('a trigger or webhook of 255 characters is stored', async () => {
      const res = await post(
        app,
        JSON.stringify({ ...message, trigger: 't'.repeat(255), webhook: 'w'.repeat(255) }),
      );
      expect(res.statusCode).toBe(200);
    });
  });

  describe('any Content-Type: the body is read as JSON, as the README promises', () => {
    it.each(['json', 'application/json, text/plain', ';', 'text/plain', '', 'Application/JSON'])(
      'Content-Type %p: stored',
      async (contentType) => {
        const res = await post(
          app,
          JSON.stringify(afterMessage({ id: 'm', sender: 'a', receiver: 'b' })),
          { 'content-type': contentType },
        );
        expect(res.statusCode).toBe(200);
        expect(await rows(`SELECT id FROM messages`)).toEqual([{ id: 'm' }]);
      },
    );

    it('a malformed Content-Type with a body that is not JSON: 400, kept with the header as sent', async () => {
      const res = await post(app, 'not json', { 'content-type': 'application/json, text/plain' });
      expect(res.statusCode).toBe(400);
      expect(await rows(`SELECT content_type, body FROM rejected_events`)).toEqual([
        { content_type: 'application/json, text/plain', body: Buffer.from('not json') },
      ]);
    });
  });

  describe('Basic auth is checked before the body is read', () => {
    let secured: NestFastifyApplication;
    let port: number;

    beforeAll(async () => {
      secured = await startApp({ WEBHOOK_USERNAME: 'cometchat', WEBHOOK_PASSWORD: 's3cret-pass' });
      await secured.listen(0, '127.0.0.1');
      port = (secured.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(() => secured.close());

    /** Announces `length` bytes, sends only the first few, and waits for the answer. */
    const postPartially = (headers: Record<string, string>, length: number, waitMs = 5_000) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/webhooks/cometchat',
          headers: {
            'content-type': 'application/json',
            'content-length': String(length),
            ...headers,
          },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('{"trigger":"after_message",');
        // The rest of the body never comes.
        setTimeout(() => {
          req.destroy();
          reject(new Error('no answer while the body was unsent'));
        }, waitMs).unref();
      });

    it('answers 401 to a large body that is never sent in full, and stores nothing', async () => {
      const res = await postPartially({}, 1_000_000);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 401 });
      expect(await rows(`SELECT id FROM rejected_events`)).toEqual([]);
    });

    it('with the right credentials the server waits for the body (the check is the only difference)', async () => {
      const authorization = `Basic ${Buffer.from('cometchat:s3cret-pass').toString('base64')}`;
      await expect(postPartially({ authorization }, 1_000_000, 1_000)).rejects.toThrow(
        'no answer while the body was unsent',
      );
    });
  });
});
