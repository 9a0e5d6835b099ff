import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { StorableTextPipe } from './storable-text.pipe';

/** CometChat posts from a few shared addresses; probes and scrapers poll. None is limited. */
const UNLIMITED = /^\/(webhooks\/cometchat|health|metrics)(\/|$)/;

/**
 * What strangers meet first: Helmet's default headers on every answer meant for people and
 * browsers (queries, docs), a per-IP rate limit on queries when RATE_LIMIT_MAX is set, and a 400
 * for query text PostgreSQL cannot hold. Call before the app is initialised and before the other
 * global pipes: the plugins attach to routes as they are registered.
 */
export async function registerSecurity(
  app: NestFastifyApplication,
  config: AppConfig,
): Promise<void> {
  // @nestjs/platform-fastify pins a fastify of its own; the plugins' types extend the root one.
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.addHook('onRoute', (route) => {
    if (!UNLIMITED.test(route.url)) {
      return;
    }
    route.config = { ...route.config, rateLimit: false };
    // The webhook answers a machine, at the highest rate of all: no browser headers to build.
    if (route.url.startsWith('/webhooks/')) {
      route.helmet = false;
    }
  });
  app.useGlobalPipes(new StorableTextPipe());
  await fastify.register(helmet);
  if (config.RATE_LIMIT_MAX > 0) {
    await fastify.register(rateLimit, {
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
    });
  }
}
