import type { NestFastifyApplication } from '@nestjs/platform-fastify';

type Headers = Record<string, string>;

/**
 * POST /webhooks/cometchat as CometChat sends it, with a JSON Content-Type (headers may override
 * it or add credentials): an object is serialised, a string or bytes are sent as they are.
 */
export function post(app: NestFastifyApplication, body: object | string, headers: Headers = {}) {
  return app.inject({
    method: 'POST',
    url: '/webhooks/cometchat',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

/** POST one event, which must be acked 200; its answer. */
export async function postAcked(app: NestFastifyApplication, body: object | string) {
  const res = await post(app, body);
  expect(res.statusCode).toBe(200);
  return res.json<{ eventId: string; duplicate: boolean }>();
}

/** POST events one after another, each of which must be acked 200. */
export async function postAll(app: NestFastifyApplication, bodies: (object | string)[]) {
  for (const body of bodies) {
    await postAcked(app, body);
  }
}

/** GET with app.inject: the whole answer (statusCode, headers, json()). */
export function get(app: NestFastifyApplication, url: string, headers: Headers = {}) {
  return app.inject({ method: 'GET', url, headers });
}

/** GET, the answer as its status and parsed JSON body, to compare whole. */
export async function getJson(app: NestFastifyApplication, url: string, headers: Headers = {}) {
  const res = await get(app, url, headers);
  return { status: res.statusCode, body: res.json() };
}

/** Epoch milliseconds as the API writes times. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** Unix seconds (as CometChat's payloads carry them) as the API writes times. */
export const isoSeconds = (seconds: number) => iso(seconds * 1000);
