/**
 * `npm run test:reliability`: the service as a real process, on an embedded PostgreSQL of its own,
 * under a CometChat-like sender that retries whatever got no 200. Three scenarios, each printing
 * sent / acked / stored / lost / duplicated and failing unless lost and duplicated are 0:
 *   crash     SIGKILL mid-stream, restart;
 *   outage    PostgreSQL stopped for several seconds under load, then started again;
 *   sigterm   SIGTERM under load: what was accepted is answered and committed, exit code 0;
 *   restart   the README's `npm start`, Ctrl-C, `npm start` again in this checkout: both answer.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import * as embedded from '../../src/db/embedded-postgres';
import { DERIVED, makeEvent } from './events';
import { Attempt, Sender, outcomes, sleep } from './sender';
import {
  LOG_DIR,
  ROOT,
  RunningService,
  buildService,
  freePort,
  killAll,
  npmStart,
  readiness,
  startService,
} from './service';

const CLUSTER = {
  dataDir: path.join(ROOT, '.data', 'reliability', 'postgres'),
  // Any free port (0); restarts after the outage keep the one it got.
  port: Number(process.env.RELIABILITY_PG_PORT ?? 0),
  database: 'reliability',
};
let PORT = Number(process.env.RELIABILITY_PORT ?? 0);
const USER = 'cometchat';
const PASSWORD = 'reliability-secret';
const DB_CONNECT_TIMEOUT_MS = 1000;
/** No answer may take longer than this while the database is down. */
const OUTAGE_ANSWER_BOUND_MS = 5000;

const SERVICE_ENV = {
  RUN_MIGRATIONS: 'false',
  LOG_LEVEL: 'warn',
  WEBHOOK_USERNAME: USER,
  WEBHOOK_PASSWORD: PASSWORD,
  API_KEY: 'reliability-api-key',
  DB_CONNECT_TIMEOUT_MS: String(DB_CONNECT_TIMEOUT_MS),
  SHUTDOWN_TIMEOUT_MS: '20000',
};

interface Figures {
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicated: number;
}

class Failure extends Error {}
const check = (ok: boolean, message: string) => {
  if (!ok) {
    throw new Failure(message);
  }
};
const log = (line: string) => console.log(line);

let url: string;
let main: string;

function newSender(tag: string): Sender {
  return new Sender({
    url: `http://127.0.0.1:${PORT}`,
    authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    concurrency: 16,
    rate: 120,
    retryDelayMs: 250,
    timeoutMs: 10_000,
    makeEvent: (n) => makeEvent(tag, n),
  });
}

const start = (name: string) =>
  startService(main, name, PORT, { ...SERVICE_ENV, DATABASE_URL: url });

async function stopGracefully(service: RunningService): Promise<void> {
  service.child.kill('SIGTERM');
  const { code } = await service.exited;
  check(code === 0, `the service exited with ${code} after SIGTERM`);
}

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows as T[];
  } finally {
    await db.end();
  }
}

/**
 * Waits until derivation has taken every acked event (the running instance derives in the
 * background, events a killed one acked included); returns how long that took.
 */
async function derivationDrained(timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [{ n }] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM derivation_queue`);
    if (n === 0) {
      return Date.now() - started;
    }
    check(
      Date.now() - started < timeoutMs,
      `${n} events still await derivation after ${timeoutMs} ms`,
    );
    await sleep(50);
  }
}

/** Raw rows per sent event, by the reliabilityId every body carries. */
async function storedCounts(tag: string): Promise<Map<string, number>> {
  const found = await query<{ rid: string; n: number }>(
    `SELECT body->>'reliabilityId' AS rid, count(*)::int AS n FROM webhook_events
      WHERE body->>'reliabilityId' LIKE $1 GROUP BY 1`,
    [`${tag}-%`],
  );
  return new Map(found.map((r) => [r.rid, r.n]));
}

/** The rows each kind derives, committed with its raw row: absent ones would be half-stored events. */
async function derivedMissing(tag: string, sender: Sender): Promise<number> {
  const expected: Record<string, number> = {};
  for (const event of sender.events.values()) {
    const table = DERIVED[event.kind];
    if (table) {
      expected[table] = (expected[table] ?? 0) + 1;
    }
  }
  const [row] = await query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM messages WHERE id LIKE $1) AS messages,
            (SELECT count(*)::int FROM receipts WHERE message_id LIKE $2 AND NOT implied) AS receipts,
            (SELECT count(*)::int FROM group_receipts WHERE message_id LIKE $1) AS group_receipts,
            (SELECT count(*)::int FROM connection_events WHERE uid LIKE $3) AS connection_events`,
    [`${tag}-%`, `${tag}-m%`, `u-${tag}-%`],
  );
  return Object.entries(expected).reduce((sum, [table, n]) => sum + Math.abs(n - row[table]), 0);
}

async function figures(
  name: string,
  tag: string,
  sender: Sender,
  startedAt: number,
  notes: string[],
) {
  const stored = await storedCounts(tag);
  const lost = [...sender.acked.keys()].filter((rid) => !stored.has(rid)).length;
  const duplicated = [...stored.values()].reduce((sum, n) => sum + n - 1, 0);
  const strangers = [...stored.keys()].filter((rid) => !sender.events.has(rid)).length;
  const missingDerived = await derivedMissing(tag, sender);
  const rejected = sender.attempts.filter((a) => a.status === 400).length;
  const result: Figures = {
    sent: sender.sent,
    acked: sender.acked.size,
    stored: stored.size,
    lost,
    duplicated,
  };
  const retried = new Set(sender.attempts.filter((a) => a.status !== 200).map((a) => a.rid)).size;
  const duplicateAnswers = sender.attempts.filter((a) => a.duplicate).length;
  log(
    `${name}: sent ${result.sent} / acked ${result.acked} / stored ${result.stored} / lost ${lost} / duplicated ${duplicated}` +
      ` (${((Date.now() - startedAt) / 1000).toFixed(1)} s, of which ${sender.drainMs} ms for the last retries)`,
  );
  log(
    `  requests ${sender.attempts.length} ${JSON.stringify(outcomes(sender.attempts))}; retried events ${retried};` +
      ` answered "duplicate": true ${duplicateAnswers}; derived rows missing ${missingDerived}`,
  );
  for (const note of notes) {
    log(`  ${note}`);
  }
  check(result.acked === result.sent, `${result.sent - result.acked} events never got a 200`);
  check(lost === 0, `${lost} acknowledged events are not stored`);
  check(duplicated === 0, `${duplicated} events are stored more than once`);
  check(result.stored === result.sent, `${result.sent - result.stored} events are not stored`);
  check(strangers === 0, `${strangers} stored events were never sent`);
  check(missingDerived === 0, `${missingDerived} derived rows are missing or extra`);
  check(rejected === 0, `${rejected} valid events were answered 400`);
  return result;
}

async function crash(): Promise<void> {
  const startedAt = Date.now();
  const sender = newSender('crash');
  const first = await start('crash-1');
  sender.start();
  await sleep(3000);
  const ackedBefore = sender.acked.size;
  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  const second = await start('crash-2');
  const downMs = Date.now() - killedAt;
  await sleep(3000);
  // Events the killed process acknowledged, delivered again: the restarted one must know them.
  const before = [...sender.acked.values()]
    .slice(0, ackedBefore)
    .filter((a) => a.eventId !== null)
    .slice(0, 100);
  const again = await Promise.all(before.map((a) => sender.redeliver(sender.events.get(a.rid)!)));
  const recognised = again.filter(
    (a, i) => a.status === 200 && a.duplicate && a.eventId === before[i].eventId,
  ).length;
  await sender.finish();
  const drainedMs = await derivationDrained();
  await stopGracefully(second);
  await figures('crash', 'crash', sender, startedAt, [
    `derivation backlog drained ${drainedMs} ms after the last answer`,
    `SIGKILL after ${ackedBefore} acks; restarted and answering after ${downMs} ms (start-up ${second.startMs} ms)`,
    `${before.length} events acknowledged before the kill, delivered again: ${recognised} answered 200 "duplicate": true with their first eventId`,
  ]);
  check(
    recognised === before.length,
    `${before.length - recognised} redeliveries were not recognised`,
  );
}

async function outage(): Promise<void> {
  const startedAt = Date.now();
  const sender = newSender('outage');
  const service = await start('outage');
  sender.start();
  await sleep(2000);
  embedded.stop(CLUSTER, 'immediate');
  const downAt = Date.now();
  // While it is down the process stays up, says it is not ready, and answers webhooks 503.
  await sleep(2500);
  const ready = await readiness(PORT);
  await sleep(2500);
  const upAt = Date.now();
  embedded.ensure(CLUSTER);
  const backAt = Date.now();
  await sleep(3000);
  const alive = service.child.exitCode === null && service.child.signalCode === null;
  const readyAfter = await readiness(PORT);
  await sender.finish();
  const drainedMs = await derivationDrained();
  await stopGracefully(service);

  const during = sender.attempts.filter((a) => a.startedAt >= downAt && a.endedAt <= upAt);
  const slowest = Math.max(0, ...during.map((a) => a.endedAt - a.startedAt));
  await figures('outage', 'outage', sender, startedAt, [
    `derivation backlog drained ${drainedMs} ms after the last answer`,
    `PostgreSQL down ${upAt - downAt} ms (+${backAt - upAt} ms to start): answers meanwhile ${JSON.stringify(outcomes(during))}, slowest ${slowest} ms; /health ${ready} during, ${readyAfter} after; same process throughout: ${alive}`,
  ]);
  check(during.length > 0, 'no request was made while the database was down');
  check(
    during.every((a) => a.status === 503),
    `answers other than 503 while the database was down: ${JSON.stringify(outcomes(during))}`,
  );
  check(slowest <= OUTAGE_ANSWER_BOUND_MS, `an answer took ${slowest} ms during the outage`);
  check(alive, 'the service exited during the outage');
  check(
    ready === 503 && readyAfter === 200,
    `/health answered ${ready} during, ${readyAfter} after`,
  );
}

async function sigterm(): Promise<void> {
  const startedAt = Date.now();
  const sender = newSender('sigterm');
  const first = await start('sigterm-1');
  sender.start();
  await sleep(2500);
  const termAt = Date.now();
  first.child.kill('SIGTERM');
  const { code } = await first.exited;
  const drainMs = Date.now() - termAt;

  // Before anything restarts: what the exiting process answered 200 is committed, and nothing it
  // committed went unanswered (such a request would have been accepted and then dropped).
  const answeredOk = new Set(sender.attempts.filter((a) => a.status === 200).map((a) => a.rid));
  const stored = await storedCounts('sigterm');
  const notCommitted = [...answeredOk].filter((rid) => !stored.has(rid)).length;
  const unanswered = [...stored.keys()].filter((rid) => !answeredOk.has(rid)).length;
  const inFlight = sender.attempts.filter(
    (a: Attempt) => a.startedAt < termAt && a.endedAt >= termAt,
  );
  const inFlightAnswered = inFlight.filter((a) => a.status !== null).length;

  const second = await start('sigterm-2');
  await sleep(1500);
  await sender.finish();
  const drainedMs = await derivationDrained();
  await stopGracefully(second);
  await figures('sigterm', 'sigterm', sender, startedAt, [
    `derivation backlog drained ${drainedMs} ms after the last answer`,
    `SIGTERM: exit code ${code} after ${drainMs} ms; in flight at the signal ${inFlight.length}, answered ${inFlightAnswered}` +
      ` ${JSON.stringify(outcomes(inFlight))}; answered 200 but not committed ${notCommitted}; committed but unanswered ${unanswered}`,
  ]);
  check(code === 0, `exit code ${code} after SIGTERM`);
  check(notCommitted === 0, `${notCommitted} events answered 200 were not committed at exit`);
  check(unanswered === 0, `${unanswered} events were committed but never answered`);
}

function prepareDatabase(): void {
  const server = embedded.ensure(CLUSTER);
  CLUSTER.port = server.port;
  url = server.url;
  const admin = embedded.urlFor(CLUSTER, 'postgres');
  execFileSync(
    process.execPath,
    [
      '-e',
      `const { Client } = require('pg');
       (async () => {
         const c = new Client({ connectionString: ${JSON.stringify(admin)} });
         await c.connect();
         await c.query('DROP DATABASE IF EXISTS "${CLUSTER.database}" WITH (FORCE)');
         await c.query('CREATE DATABASE "${CLUSTER.database}"');
         await c.end();
       })().catch((e) => { console.error(e.message); process.exit(1); });`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * `npm start`, Ctrl-C, `npm start` in one checkout, as a user does on day one. Each start
 * builds dist/ again (nest deletes it first), so the second must not find stale build state
 * that says nothing needs emitting; each Ctrl-C must stop the embedded PostgreSQL it started.
 */
async function restart(): Promise<void> {
  const cluster = { dataDir: path.join(ROOT, '.data', 'reliability', 'npm-start-postgres') };
  const env = {
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    EMBEDDED_PG_DIR: cluster.dataDir,
    LOG_LEVEL: 'warn',
  };
  const notes: string[] = [];
  for (const round of [1, 2]) {
    const service = await npmStart(`npm-start-${round}`, env);
    const ready = await readiness(Number(env.PORT));
    const { code, signal } = await service.stop();
    const stillRunning = embedded.isRunning(cluster);
    notes.push(
      `npm start #${round}: answering after ${service.startMs} ms, /health ${ready}; Ctrl-C: exit ${code ?? signal}, embedded PostgreSQL still running: ${stillRunning}`,
    );
    check(ready === 200, `npm start #${round}: /health answered ${ready}`);
    check(!stillRunning, `npm start #${round}: Ctrl-C left the embedded PostgreSQL running`);
  }
  log('restart: npm start, Ctrl-C, npm start in this checkout');
  for (const note of notes) {
    log(`  ${note}`);
  }
}

const SCENARIOS: Record<string, () => Promise<void>> = { crash, outage, sigterm, restart };

async function run(): Promise<void> {
  const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SCENARIOS);
  const unknown = chosen.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) {
    throw new Failure(
      `unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  }
  const t0 = Date.now();
  if (PORT === 0) {
    PORT = await freePort();
  }
  const build = buildService();
  main = build.main;
  const built = Date.now();
  prepareDatabase();
  log(
    `${build.built ? 'built' : 'build up to date'} in ${built - t0} ms; PostgreSQL on port ${CLUSTER.port} ready in ${Date.now() - built} ms; service logs in ${path.relative(ROOT, LOG_DIR)}`,
  );
  for (const name of chosen) {
    await SCENARIOS[name]();
  }
  log(`reliability: ${chosen.join(', ')} passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const cleanUp = () => {
  killAll();
  embedded.stop(CLUSTER);
  embedded.stop({ dataDir: path.join(ROOT, '.data', 'reliability', 'npm-start-postgres') });
};
process.on('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

run()
  .then(() => {
    cleanUp();
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Failure ? `FAILED: ${error.message}` : error);
    cleanUp();
    process.exit(1);
  });
