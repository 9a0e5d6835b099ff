import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import { testDatabaseUrl } from './test-app';

export interface Route {
  method: string;
  url: string;
}

/**
 * Like startApp, and also lists every route the app registers (HEAD twins left out), so specs
 * that must cover "every endpoint" cover the ones added after them too.
 */
export async function startAppListingRoutes(
  env: Record<string, string> = {},
  databaseUrl = testDatabaseUrl(),
): Promise<{ app: NestFastifyApplication; routes: Route[] }> {
  const app = await createApp(loadConfig({ LOG_LEVEL: 'fatal', ...env }), databaseUrl);
  const routes: Route[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routes.push({ method, url: route.url });
      }
    });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, routes };
}

/**
 * Routes anyone may call, on purpose: the webhook (Basic auth of its own), health and metrics for
 * probes and scrapers, the API docs, the dashboard's page and assets (its queries need the key).
 * A route missing here must refuse callers without the API key; the security spec checks it.
 */
export const isPublicRoute = (route: Route) =>
  /^\/(webhooks\/cometchat|health|metrics)(\/|$)|^\/docs|^\/$|^\/dashboard\//.test(route.url);

const LATENCY_PARAMS = [
  'appId',
  'from',
  'to',
  'receiverType',
  'conversationId',
  'sender',
  'reader',
  'includeImplied',
  'interval',
];

/** The query parameters of each query route; a route not listed gets COMMON_PARAMS. */
export const QUERY_PARAMS: Record<string, string[]> = {
  '/events': ['appId', 'limit', 'cursor', 'trigger', 'uid', 'from', 'to'],
  '/events/rejected': ['appId', 'limit', 'cursor'],
  '/users/:uid/presence': ['appId'],
  '/users/:uid/sessions': ['appId', 'limit', 'cursor', 'from', 'to'],
  '/presence/online': ['appId', 'limit', 'cursor'],
  '/messages/:id/receipts': ['appId'],
  '/analytics/read-latency': LATENCY_PARAMS,
  '/analytics/delivery-latency': LATENCY_PARAMS,
  '/analytics/concurrency': ['appId', 'from', 'to', 'interval'],
  '/analytics/conversations': ['appId', 'from', 'to', 'receiverType', 'limit'],
};
export const COMMON_PARAMS = ['appId', 'limit', 'cursor', 'from', 'to', 'interval', 'receiverType'];

/** A route's URL with its path parameters (and wildcard) filled in. */
export const fillPath = (url: string, values: Record<string, string> = {}) =>
  url
    .replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name] ?? 'someone'))
    .replace('*', 'x');
