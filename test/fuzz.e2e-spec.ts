import { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import {
  afterMessage,
  currentConnection,
  currentReceipt,
  documented,
  documentedJson,
  groupAggregate,
  legacyConnection,
  legacyReceipt,
  messageEvent,
} from './factories';
import {
  COMMON_PARAMS,
  QUERY_PARAMS,
  Route,
  fillPath,
  isPublicRoute,
  startAppListingRoutes,
} from './setup/routes';
import { resetDatabase, rows } from './setup/test-app';

// Property-based fuzzing of everything a stranger or a broken sender can reach. The seed is
// fixed, so every run tries the same cases (a suite that passes passes again); FUZZ_SEED=N tries
// other ones, FUZZ_SEED=random a new seed each run (fast-check prints it with any failure),
// FUZZ_RUNS scales the number of cases.
const FIXED_SEED = 20261203;
const SEED =
  process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED ?? FIXED_SEED);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => ({ numRuns: Math.ceil(n * SCALE), seed: SEED, endOnFailure: true });

const USER = 'cometchat';
const PASSWORD = 'fuzz-secret';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const BODY_LIMIT = 256 * 1024;

type Json = Record<string, unknown>;

/** Real payloads: the documented ones and one of every trigger and format from the factories. */
const BASES: Json[] = [
  ...['after_message', 'before_message', 'message_delivery_receipt', 'message_read_receipt'].map(
    documentedJson,
  ),
  documentedJson('after_connection_status_changed'),
  afterMessage({ id: 'm1', sender: 'alice', receiver: 'bob' }),
  messageEvent('message_sent', {
    id: 'm2',
    sender: 'alice',
    receiver: 'team',
    receiverType: 'group',
  }),
  messageEvent('message_edited', {
    id: 'm2',
    sender: 'alice',
    receiver: 'bob',
    editedAt: 1_700_000_100,
  }),
  messageEvent('message_deleted', {
    id: 'm2',
    sender: 'alice',
    receiver: 'bob',
    deletedAt: 1_700_000_200,
  }),
  legacyReceipt({
    messageId: 'm1',
    reader: 'bob',
    messageSender: 'alice',
    kind: 'delivered',
    at: 1_700_000_010,
  }),
  currentReceipt({
    messageId: 'm1',
    reader: 'bob',
    messageSender: 'alice',
    kind: 'read',
    at: '1700000020',
  }),
  groupAggregate({ messageId: 'm2', group: 'team', kind: 'readByAll', at: 1_700_000_030 }),
  legacyConnection({
    uid: 'alice',
    type: 'connected',
    at: 1_700_000_000_000,
    status: 'online',
    connection: { session: 's1', connectedAt: 1_700_000_000_000 },
    open: [{ session: 's1', connectedAt: 1_700_000_000_000 }],
  }),
  currentConnection({
    uid: 'bob',
    action: 'disconnected',
    at: 1_700_000_500_000,
    status: 'offline',
    connectedAt: 1_700_000_000_000,
  }),
  { trigger: 'some_future_trigger', appId: 'app-one', data: { anything: [1, 'two'] } },
];

// Raw JSON that JSON.stringify cannot write (numbers beyond double, -0, long digit runs) goes in
// as a marker string and is spliced into the text afterwards.
const RAW = (text: string) => `\u0001RAW${text}\u0001`;
const spliceRaw = (text: string) => text.replace(/"\\u0001RAW(.*?)\\u0001"/g, '$1');

const nest = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) {
    value = i % 2 ? [value] : { deeper: value };
  }
  return value;
};

/** An object with keys that have bitten JavaScript code before, as own, enumerable keys. */
const pollutingObject = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
    fc.jsonValue(),
  )
  .map(([key, value]) => {
    const o: Json = {};
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
    return o;
  });

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\udbff\udfff',
    '\uFEFF',
    '\u202Eevil',
    'e\u0301',
    '😀',
    'null',
    'undefined',
    'NaN',
    '[object Object]',
    "' OR '1'='1",
    "'; DROP TABLE webhook_events; --",
  ),
  fc.constantFrom(300, 5_000, 60_000, 300_000).map((n) => 'x'.repeat(n)),
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(), // NaN and ±Infinity become null in JSON
  fc.constantFrom(
    0,
    -1,
    1e-9,
    2 ** 53 + 1,
    -(2 ** 63),
    1e21,
    99_999_999_999,
    100_000_000_000,
    253_402_300_800_000,
    1e308,
  ),
  fc
    .constantFrom('1e400', '-0', '1e-400', '123456789012345678901234567890', '1E+2', '0.0000001')
    .map(RAW),
  fc.constantFrom(
    '1e400',
    '-5',
    ' 17 ',
    '0x10',
    '١٢٣',
    '1'.repeat(400),
    '1700000000.5',
    '+1700000000',
  ),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 4 },
  { arbitrary: hostileNumber, weight: 4 },
  { arbitrary: fc.constantFrom(null, true, false, [], {}), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: pollutingObject, weight: 2 },
  { arbitrary: fc.integer({ min: 50, max: 2_000 }).map(nest), weight: 1 },
);

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'add'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  {
    arbitrary: fc.record({
      op: fc.constant('replace' as const),
      at: fc.nat(),
      value: hostileValue,
    }),
    weight: 3,
  },
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(
      hostileString,
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'trigger', 'appId', 'id'),
    ),
    value: hostileValue,
  }),
);

/**
 * Every (container, key) pair in the top of a JSON tree, the root's own keys included; deeply
 * nested values are mutated as a whole, so nesting grows by one value's depth at most.
 */
function slots(root: Json): [Json | unknown[], string][] {
  const found: [Json | unknown[], string][] = [];
  const visit = (node: unknown, depth: number) => {
    if (node === null || typeof node !== 'object' || depth > 8) {
      return;
    }
    for (const key of Object.keys(node)) {
      found.push([node as Json, key]);
      visit((node as Json)[key], depth + 1);
    }
  };
  visit(root, 0);
  return found;
}

function containers(root: Json): Json[] {
  const found: Json[] = [root];
  for (const [parent, key] of slots(root)) {
    const child = (parent as Json)[key];
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      found.push(child as Json);
    }
  }
  return found;
}

// fast-check hands out the same instance more than once; a copy keeps the tree a tree. JSON.parse
// keeps `__proto__` as an own key, as a server's JSON.parse would.
const copy = (value: unknown): unknown =>
  value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);

function mutate(base: Json, mutations: Mutation[]): Json {
  const root = structuredClone(base);
  for (const m of mutations) {
    if (m.op === 'add') {
      const all = containers(root);
      Object.defineProperty(all[m.at % all.length], m.key, {
        value: copy(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    const all = slots(root);
    if (all.length === 0) {
      continue;
    }
    const [parent, key] = all[m.at % all.length];
    if (m.op === 'delete') {
      if (Array.isArray(parent)) {
        parent.splice(Number(key), 1);
      } else {
        delete parent[key];
      }
    } else {
      (parent as Json)[key] = copy(m.value);
    }
  }
  return root;
}

const contentType = fc.constantFrom(
  'application/json',
  'Application/JSON',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  undefined,
);

/** Byte-level damage on top of the JSON mutations: cut, spliced garbage, invalid UTF-8, BOMs. */
const byteDamage = fc.oneof(
  { arbitrary: fc.constant((b: Buffer) => b), weight: 6 },
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(
    ([n, junk]) =>
      (b: Buffer) =>
        Buffer.concat([b.subarray(0, n % (b.length + 1)), junk, b.subarray(n % (b.length + 1))]),
  ),
  fc.constant((b: Buffer) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b])),
  fc.constant((b: Buffer) => Buffer.from(b.toString('utf8'), 'utf16le')),
);

describe('fuzzing (fast-check)', () => {
  let app: NestFastifyApplication;
  let routes: Route[];
  const tried = new Map<string, number>();
  const count = (name: string) => tried.set(name, (tried.get(name) ?? 0) + 1);

  beforeAll(async () => {
    ({ app, routes } = await startAppListingRoutes({
      WEBHOOK_USERNAME: USER,
      WEBHOOK_PASSWORD: PASSWORD,
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      // FUZZ_LOG_LEVEL=error shows the stack behind a failing case.
      LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'fatal',
    }));
    await resetDatabase();
    // Something to find, so queries run over real rows.
    for (const body of BASES) {
      await post(Buffer.from(JSON.stringify(body)), 'application/json');
    }
  });
  afterAll(async () => {
    await app?.close();
    console.log(
      `fuzz cases tried:\n${[...tried].map(([name, n]) => `  ${name.padEnd(40)} ${n}`).join('\n')}\n  ${'total'.padEnd(40)} ${[...tried.values()].reduce((a, b) => a + b, 0)}`,
    );
  });

  const post = (payload: Buffer, type: string | undefined) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/cometchat',
      headers: { authorization: AUTH, ...(type === undefined ? {} : { 'content-type': type }) },
      payload,
    });

  it(
    'the webhook answers 200, 400 (kept byte for byte) or 413: never 5xx, never a crash',
    async () => {
      const sent = new Map<string, Buffer>();
      const before = Number(
        (await rows<{ n: string }>('SELECT count(*) AS n FROM rejected_events'))[0].n,
      );
      const statuses: Record<number, number> = {};

      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...BASES),
          fc.array(mutation, { minLength: 0, maxLength: 4 }),
          byteDamage,
          contentType,
          async (base, mutations, damage, type) => {
            count('POST /webhooks/cometchat');
            const payload = damage(
              Buffer.from(spliceRaw(JSON.stringify(mutate(base, mutations)) ?? '')),
            );
            const res = await post(payload, type);
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (![200, 400, 413].includes(res.statusCode)) {
              throw new Error(`answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
            }
            if (res.statusCode === 400) {
              const answer = res.json<{ field?: string; rejectedId?: string }>();
              expect(answer.field).toEqual(expect.any(String));
              expect(answer.rejectedId).toEqual(expect.any(String));
              sent.set(answer.rejectedId!, payload);
            }
          },
        ),
        runs(2000),
      );

      // Every authenticated 400 left its body behind, byte for byte.
      const kept = await rows<{ id: string; body: Buffer }>(
        'SELECT id::text, body FROM rejected_events WHERE id = ANY($1::bigint[])',
        [[...sent.keys()]],
      );
      expect(kept).toHaveLength(sent.size);
      for (const row of kept) {
        expect(row.body.equals(sent.get(row.id)!)).toBe(true);
      }
      const after = Number(
        (await rows<{ n: string }>('SELECT count(*) AS n FROM rejected_events'))[0].n,
      );
      expect(after - before).toBe(sent.size);
      console.log(
        `webhook fuzz answers: ${JSON.stringify(statuses)}; rejected bodies kept: ${sent.size}`,
      );
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    },
    60_000 * SCALE,
  );

  /** A query value, already percent-encoded (some are not valid UTF-8 on purpose). */
  const encoded = fc.oneof(
    {
      arbitrary: hostileString
        .filter((s) => s.length < 2_000 && s.isWellFormed())
        .map(encodeURIComponent),
      weight: 4,
    },
    {
      arbitrary: fc
        .constantFrom(
          "' OR 1=1 --",
          "app-one' OR '1'='1",
          "'; DROP TABLE webhook_events; --",
          '1; SELECT pg_sleep(5)',
          "1' UNION SELECT body::text FROM webhook_events --",
          '") OR ("1"="1',
          '\\',
          '$1',
          '%',
          '*',
          'alice%',
        )
        .map(encodeURIComponent),
      weight: 2,
    },
    {
      arbitrary: fc.constantFrom(
        '0',
        '-1',
        '1',
        '500',
        '501',
        '1.5',
        '1e3',
        '0x10',
        '9'.repeat(30),
        'NaN',
        'Infinity',
        '',
        '0000-01-01',
        '0000-01-01T00:00:00Z',
        '-000001-01-01T00:00:00Z',
        '%2B275760-09-13T00:00:00Z',
        '275760-09-13',
        '9999-12-31T23:59:59.999Z',
        '2024-02-30',
        '2024-13-45T25:61:00Z',
        '1970-01-01',
        '2023-11-14T22:13:20Z',
        '1700000000',
        '1700000000000',
        '8640000000000000',
        '8640000000000001',
        '99999999999999999999',
        '0.0000001',
        'hour',
        'day',
        'minute',
        'user',
        'group',
        'true',
        'false',
        'YWJj',
        'WzEsMl0',
        'WyJ4IiwieSJd',
        'WzEuNSwiMSJd',
        'WzEsIjEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIl0',
        'bnVsbA',
      ),
      weight: 4,
    },
    fc.constantFrom(
      '%00',
      'a%00b',
      '%ED%A0%80',
      '%FF%FE',
      '%C0%AF',
      '%zz',
      '%E2%82',
      '%F0%9F%98%80',
    ),
  );

  it(
    'every query parameter of every query route answers 200, 400 or 404: never 5xx',
    async () => {
      const queryRoutes = routes.filter((r) => r.method === 'GET' && !isPublicRoute(r));
      expect(queryRoutes.length).toBeGreaterThanOrEqual(Object.keys(QUERY_PARAMS).length);
      const statuses: Record<number, number> = {};
      for (const route of queryRoutes) {
        const names = QUERY_PARAMS[route.url] ?? COMMON_PARAMS;
        const hasPath = route.url.includes(':');
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.tuple(
                fc.oneof(
                  { arbitrary: fc.constantFrom(...names), weight: 9 },
                  fc.constantFrom(
                    '__proto__',
                    'constructor',
                    'x',
                    'appId[]',
                    '__proto__[polluted]',
                  ),
                ),
                encoded,
              ),
              { minLength: 1, maxLength: 4 },
            ),
            hasPath
              ? fc.oneof(encoded, fc.constantFrom('alice', 'bob', 'm1', 'm2', '1'))
              : fc.constant(''),
            async (params, pathValue) => {
              count(`GET ${route.url}`);
              const path = hasPath ? route.url.replace(/:(\w+)/g, () => pathValue) : route.url;
              const url = `${path}?${params.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')}`;
              const res = await app.inject({ method: 'GET', url });
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (![200, 400, 404].includes(res.statusCode)) {
                throw new Error(`${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
              }
            },
          ),
          runs(names.length * 60 + (hasPath ? 100 : 0)),
        );
      }
      console.log(`query fuzz answers: ${JSON.stringify(statuses)}`);
      expect(({} as Json).polluted).toBeUndefined();
      expect((await app.inject({ method: 'GET', url: fillPath('/health') })).statusCode).toBe(200);
    },
    60_000 * SCALE,
  );

  it.each([
    ['an appId', { trigger: 'after_message', appId: 'app\u0000one', data: {} }],
    ['a trigger', { trigger: 'after\u0000message', appId: 'app-one' }],
    ['a key', { trigger: 'after_message', appId: 'app-one', data: { 'i\u0000d': 1 } }],
    ['an unpaired surrogate', { trigger: '\ud800', appId: '\udc00' }],
  ])('keeps a body with NUL or unpaired surrogates in %s (found by fuzzing)', async (_, body) => {
    count('POST /webhooks/cometchat');
    const payload = Buffer.from(JSON.stringify(body));
    const res = await post(payload, 'application/json');
    expect(res.statusCode).toBe(400);
    const [row] = await rows<{ body: Buffer }>('SELECT body FROM rejected_events WHERE id = $1', [
      res.json<{ rejectedId: string }>().rejectedId,
    ]);
    expect(row.body.equals(payload)).toBe(true);
  });

  it('answers 400 to nesting 100 000 levels deep, and keeps it', async () => {
    count('POST /webhooks/cometchat');
    const depth = 100_000;
    const payload = Buffer.from(
      `{"trigger":"after_message","appId":"app-one","data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    );
    const res = await post(payload, 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ message: 'body nests deeper than 64 levels' });
  });

  it('keeps a documented payload that is not JSON as it came', async () => {
    count('POST /webhooks/cometchat');
    const payload = Buffer.from(documented('after_message', 'verbatim.txt'));
    const res = await post(payload, 'application/json');
    expect(res.statusCode).toBe(400);
    const [row] = await rows<{ body: Buffer }>('SELECT body FROM rejected_events WHERE id = $1', [
      res.json<{ rejectedId: string }>().rejectedId,
    ]);
    expect(row.body.equals(payload)).toBe(true);
  });
});
