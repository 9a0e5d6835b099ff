import { createHash } from 'node:crypto';
import Fastify, { FastifyInstance } from 'fastify';

/** What every baseline handler gets: the parsed event, and the raw bytes' SHA-256 as the service keeps it. */
export interface Received {
  event: { appId?: unknown; trigger?: unknown; webhook?: unknown };
  raw: Buffer;
  sha256: Buffer;
}

/**
 * A baseline is one Fastify POST route doing the least the service also does (parse the body,
 * hash its bytes) plus its own work, on PORT. It exits on SIGTERM after closing its resources.
 */
export async function serveBaseline(
  handle: (received: Received) => Promise<unknown>,
  close: () => Promise<void> = () => Promise.resolve(),
  routes: (app: FastifyInstance) => unknown = () => undefined,
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.post('/webhooks/cometchat', async (request) => {
    const raw = request.body as Buffer;
    const event = JSON.parse(raw.toString('utf8')) as Received['event'];
    return handle({ event, raw, sha256: createHash('sha256').update(raw).digest() });
  });
  routes(app);
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(close)
      .then(() => process.exit(0));
  });
  return app;
}

export const text = (value: unknown): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;
