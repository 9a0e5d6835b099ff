import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { COMETCHAT_EVENT_EXAMPLES } from '../src/webhooks/webhooks.dto';
import { resetDatabase } from './setup/test-app';
import { Route, startAppListingRoutes } from './setup/routes';
import { post } from './setup/http';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme: string }>;
    schemas: Record<string, { properties: Record<string, unknown> }>;
  };
}
interface OperationObject {
  parameters?: { name: string; in: string }[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

// Pages and files of the dashboard and the docs themselves are not API.
const NOT_API = /^\/$|^\/dashboard\/|^\/docs/;
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  let app: NestFastifyApplication;
  let routes: Route[];
  let doc: OpenApiDocument;

  beforeAll(async () => {
    ({ app, routes } = await startAppListingRoutes({ API_KEY: 'query-key-0123456789' }));
    await resetDatabase();
    const res = await app.inject({ method: 'GET', url: '/docs-json' });
    expect(res.statusCode).toBe(200);
    doc = res.json<OpenApiDocument>();
  });
  afterAll(() => app?.close());

  it('documents every route the app serves', () => {
    const api = routes.filter((r) => !NOT_API.test(r.url));
    expect(api.length).toBeGreaterThan(10);
    const missing = api.filter(
      (r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined,
    );
    expect(missing).toEqual([]);
  });

  it('names every query parameter and path parameter of the DTOs', () => {
    const names = (path: string) =>
      (doc.paths[path].get.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
    expect(names('/users/{uid}/sessions')).toEqual(
      [
        'path:uid',
        'query:appId',
        'query:cursor',
        'query:from',
        'query:limit',
        'query:platform',
        'query:to',
      ].sort(),
    );
    expect(names('/analytics/read-latency')).toEqual(
      expect.arrayContaining(['query:receiverType', 'query:reader', 'query:interval']),
    );
    expect(names('/messages/{id}/receipts')).toEqual(['path:id', 'query:appId']);
    expect(names('/analytics/active-users')).toEqual(
      ['query:appId', 'query:from', 'query:interval', 'query:platform', 'query:to'].sort(),
    );
    expect(names('/export/receipts')).toEqual(
      ['query:appId', 'query:format', 'query:from', 'query:to'].sort(),
    );
  });

  it('describes exports as CSV or NDJSON files, their range as required', () => {
    const op = doc.paths['/export/messages'].get;
    expect(Object.keys(op.responses['200'].content ?? {}).sort()).toEqual([
      'application/x-ndjson',
      'text/csv',
    ]);
    const required = (op.parameters as { name: string; required?: boolean }[])
      .filter((p) => p.required)
      .map((p) => p.name)
      .sort();
    expect(required).toEqual(['appId', 'from', 'to']);
    expect(doc.paths['/export/events'].get.security).toEqual([{ apiKey: [] }]);
  });

  it('describes answers with their shapes', () => {
    const ok = (path: string) =>
      doc.paths[path].get.responses['200'].content?.['application/json']?.schema;
    expect(ok('/users/{uid}/presence')).toEqual({ $ref: '#/components/schemas/PresenceDto' });
    const { schemas } = doc.components;
    expect(Object.keys(schemas.PresenceDto.properties)).toEqual(
      expect.arrayContaining(['uid', 'status', 'since', 'lastSeenAt', 'sessions']),
    );
    expect(Object.keys(schemas.MessageReceiptsDto.properties)).toEqual(
      expect.arrayContaining(['delivered', 'read', 'summary']),
    );
  });

  it('declares Basic auth for the webhook and the API key for queries', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      webhookBasicAuth: { type: 'http', scheme: 'basic' },
      apiKey: { type: 'http', scheme: 'bearer' },
    });
    expect(doc.paths['/webhooks/cometchat'].post.security).toEqual([{ webhookBasicAuth: [] }]);
    expect(doc.paths['/events'].get.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/health'].get.security).toBeUndefined();
  });

  it('shows CometChat events as the webhook body, and each example is accepted as it stands', async () => {
    const body = doc.paths['/webhooks/cometchat'].post.requestBody;
    const examples = body?.content['application/json'].examples ?? {};
    expect(Object.keys(examples)).toEqual(Object.keys(COMETCHAT_EVENT_EXAMPLES));
    for (const [name, example] of Object.entries(examples)) {
      const res = await post(app, example.value as object);
      expect({ name, status: res.statusCode }).toEqual({ name, status: 200 });
    }
  });

  it('serves the UI and the document without the API key', async () => {
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.body).toContain('swagger-ui');
    const yaml = await app.inject({ method: 'GET', url: '/docs-yaml' });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.body).toContain('openapi: 3.');
  });
});
