import { createHash, timingSafeEqual } from 'node:crypto';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { AppConfig } from '../config/app-config';

export const WEBHOOK_URL = '/webhooks/cometchat';
const digest = (value: string) => createHash('sha256').update(value).digest();

/** The Content-Type as the sender wrote it, kept for the rejected-events table. */
const RECEIVED_CONTENT_TYPE = Symbol('receivedContentType');
type WebhookRequest = FastifyRequest['raw'] & { [RECEIVED_CONTENT_TYPE]?: string };

/**
 * The webhook's edge, as route hooks on POST /webhooks/cometchat that run before its body is
 * read: CometChat's Basic auth (when WEBHOOK_USERNAME/WEBHOOK_PASSWORD are set), so a stranger
 * is answered 401 without the server reading, let alone buffering, up to BODY_LIMIT_BYTES; and a
 * Content-Type that is not a valid media type (`json`, `;`) no longer ends in Fastify's 415: the
 * body is read as bytes whatever the header says, and the header is kept as sent.
 * Call before the app registers its routes.
 */
export function registerWebhookEdge(fastify: FastifyInstance, config: AppConfig): void {
  const expected =
    config.WEBHOOK_USERNAME && config.WEBHOOK_PASSWORD
      ? digest(`${config.WEBHOOK_USERNAME}:${config.WEBHOOK_PASSWORD}`)
      : null;

  const checkCredentials = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (expected === null || credentialsMatch(request.headers.authorization, expected)) {
      done();
      return;
    }
    // Connection: close, so Node drops the unread body with the socket instead of draining it.
    void reply
      .code(401)
      .header('WWW-Authenticate', 'Basic realm="webhooks"')
      .header('connection', 'close')
      .send({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Missing or wrong webhook credentials',
      });
  };
  const readAnyContentType = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const raw = request.raw as WebhookRequest;
    raw[RECEIVED_CONTENT_TYPE] = raw.headers['content-type'];
    if (raw.headers['content-type'] !== undefined) {
      raw.headers['content-type'] = 'application/octet-stream';
    }
    done();
  };

  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.url !== WEBHOOK_URL || route.method !== 'POST') {
      return;
    }
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [checkCredentials, readAnyContentType, ...own];
  });
}

/** Digests have equal length whatever was sent, so the comparison time says nothing. */
function credentialsMatch(header: string | undefined, expected: Buffer): boolean {
  const match = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  const given = digest(match ? Buffer.from(match[1], 'base64').toString('utf8') : '');
  return match !== null && timingSafeEqual(given, expected);
}

/** The webhook's Content-Type header as the sender wrote it. */
export const ReceivedContentType = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    (context.switchToHttp().getRequest<FastifyRequest>().raw as WebhookRequest)[
      RECEIVED_CONTENT_TYPE
    ],
);
