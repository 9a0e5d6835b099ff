import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApp } from './test-app';

export interface Route {
  method: string;
  url: string;
}

/** startApp, and every route the app serves (HEAD twins left out). */
export async function startAppListingRoutes(
  env: Record<string, string> = {},
): Promise<{ app: NestFastifyApplication; routes: Route[] }> {
  const app = await startApp(env);
  return { app, routes: listRoutes(app) };
}

/**
 * Every route, read from Fastify's own route tree, so that specs which must cover "every
 * endpoint" also cover the ones added after them.
 */
export function listRoutes(app: NestFastifyApplication): Route[] {
  const tree = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const routes: Route[] = [];
  const prefixes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) {
      continue;
    }
    const depth = match[1].length / 4;
    const url = (prefixes[depth - 1] ?? '') + match[2];
    prefixes[depth] = url;
    for (const method of match[3]?.split(', ') ?? []) {
      if (method !== 'HEAD') {
        routes.push({ method, url });
      }
    }
  }
  return routes;
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

const EXPORT_PARAMS = ['appId', 'from', 'to', 'format'];

/** The query parameters of each query route; a route not listed gets COMMON_PARAMS. */
export const QUERY_PARAMS: Record<string, string[]> = {
  '/apps': ['appId'],
  '/events': ['appId', 'limit', 'cursor', 'trigger', 'uid', 'from', 'to'],
  '/events/rejected': ['appId', 'limit', 'cursor'],
  '/users/:uid/presence': ['appId'],
  '/users/:uid/sessions': ['appId', 'limit', 'cursor', 'from', 'to'],
  '/presence/online': ['appId', 'limit', 'cursor'],
  '/messages/:id': ['appId'],
  '/conversations/:id/messages': ['appId', 'limit', 'cursor', 'from', 'to'],
  '/messages/:id/receipts': ['appId'],
  '/analytics/read-latency': LATENCY_PARAMS,
  '/analytics/delivery-latency': LATENCY_PARAMS,
  '/analytics/concurrency': ['appId', 'from', 'to', 'interval'],
  '/analytics/conversations': ['appId', 'from', 'to', 'receiverType', 'limit'],
  '/analytics/active-users': ['appId', 'from', 'to', 'interval', 'platform'],
  '/analytics/sessions': ['appId', 'from', 'to', 'platform'],
  '/export/messages': EXPORT_PARAMS,
  '/export/receipts': EXPORT_PARAMS,
  '/export/sessions': EXPORT_PARAMS,
  '/export/events': EXPORT_PARAMS,
  '/users/:uid/unread': ['appId', 'limit', 'cursor'],
  '/analytics/unread': ['appId', 'olderThan', 'limit', 'cursor'],
};
export const COMMON_PARAMS = ['appId', 'limit', 'cursor', 'from', 'to', 'interval', 'receiverType'];

/** A route's URL with its path parameters (and wildcard) filled in. */
export const fillPath = (url: string, values: Record<string, string> = {}) =>
  url
    .replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name] ?? 'someone'))
    .replace('*', 'x');

/**
 * Parameters a route cannot answer without (an export needs its range), as a query string to
 * add to `appId=…`: here the week around now, which holds whatever a spec seeded lately.
 */
export function requiredParams(url: string): string {
  if (!url.startsWith('/export/')) {
    return '';
  }
  const day = 86_400_000;
  const now = Date.now();
  return `&from=${new Date(now - 6 * day).toISOString()}&to=${new Date(now + day).toISOString()}`;
}
