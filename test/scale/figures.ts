/**
 * The figures of README "Scaling / Citus": one PostgreSQL 15 node against the 3-node Citus
 * cluster (coordinator + 2 workers, 4 shards), both on this machine with the same settings, on
 * the same workload: a fixed simulated day of 50 users' traffic posted to the service, derived,
 * then the query routes asked in turn. A correctness run on one shared 2-core machine, not a speed
 * claim. Run: npx ts-node --transpile-only test/scale/figures.ts [--users 50] [--hours 24]
 */
import { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { simulate } from '../../scripts/simulate';
import { createApp } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import { applyMigrations } from '../../src/db/database';
import {
  CitusNode,
  nodeUrl,
  startCitusCluster,
  startPlainNode,
  stopCitusCluster,
  stopNode,
} from './citus-cluster';
import { ensureCitus } from './software';
import { distributeTestDatabase, onServer, prepareCitusDatabase } from '../setup/citus-database';

const NOW = Date.UTC(2026, 11, 3, 12);

async function database(coordinator: CitusNode, workers: CitusNode[]): Promise<string> {
  for (const node of [coordinator, ...workers]) {
    await onServer(nodeUrl(node), [
      'DROP DATABASE IF EXISTS figures WITH (FORCE)',
      'CREATE DATABASE figures',
    ]);
  }
  const url = nodeUrl(coordinator, 'figures');
  if (workers.length > 0) {
    await prepareCitusDatabase(
      url,
      workers.map((w) => nodeUrl(w, 'figures')),
    );
  }
  await applyMigrations(url);
  if (workers.length > 0) {
    await distributeTestDatabase(url);
  }
  return url;
}

async function backlog(url: string): Promise<number> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM derivation_queue',
    );
    return rows[0].n;
  } finally {
    await db.end();
  }
}

async function measure(name: string, url: string, users: number, hours: number) {
  const app = await createApp(loadConfig({ ...process.env, LOG_LEVEL: 'error' }), url);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  try {
    const started = performance.now();
    const summary = await simulate({
      url: base,
      users,
      minutes: 0,
      rate: 5,
      historyHours: hours,
      appId: 'figures',
      seed: 1,
      now: NOW,
    });
    const acked = performance.now();
    while ((await backlog(url)) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const derived = performance.now();
    const window = `from=${new Date(NOW - hours * 3_600_000).toISOString()}&to=${new Date(NOW).toISOString()}`;
    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows: uids } = await db.query<{ uid: string }>('SELECT uid FROM presence ORDER BY uid');
    const { rows: messages } = await db.query<{ id: string }>(
      'SELECT id FROM messages ORDER BY id LIMIT 50',
    );
    await db.end();
    const urls = [
      ...uids.map((u) => `/users/${u.uid}/presence?appId=figures`),
      ...uids.map((u) => `/users/${u.uid}/sessions?appId=figures&${window}`),
      ...messages.map((m) => `/messages/${m.id}/receipts?appId=figures`),
      ...Array.from({ length: 10 }, () => `/analytics/read-latency?appId=figures&${window}`),
      ...Array.from({ length: 10 }, () => `/analytics/concurrency?appId=figures&${window}`),
      ...Array.from({ length: 10 }, () => `/analytics/conversations?appId=figures&${window}`),
      ...Array.from({ length: 10 }, () => `/presence/online?appId=figures`),
    ];
    const queried = performance.now();
    for (const path of urls) {
      const res = await fetch(base + path);
      if (res.status !== 200) {
        throw new Error(`${name}: ${path} answered ${res.status}`);
      }
      await res.arrayBuffer();
    }
    const done = performance.now();
    const stored = summary.tally.counts.stored;
    return {
      target: name,
      webhooks: summary.sent,
      stored,
      'ack s': ((acked - started) / 1000).toFixed(1),
      'acked/s': Math.round(summary.sent / ((acked - started) / 1000)),
      'derived s (after acks)': ((derived - acked) / 1000).toFixed(1),
      'stored+derived/s': Math.round(stored / ((derived - started) / 1000)),
      queries: urls.length,
      'query s': ((done - queried) / 1000).toFixed(1),
      'mean ms/query': ((done - queried) / urls.length).toFixed(1),
    };
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { users: { type: 'string', default: '50' }, hours: { type: 'string', default: '24' } },
  });
  ensureCitus();
  const cluster = await startCitusCluster(2);
  const single = await startPlainNode();
  try {
    const results = [];
    for (const round of [1, 2]) {
      for (const [name, coordinator, workers] of [
        ['1 node', single, []],
        ['Citus 3 nodes', cluster.coordinator, cluster.workers],
      ] as const) {
        const url = await database(coordinator, [...workers]);
        results.push({
          round,
          ...(await measure(name, url, Number(values.users), Number(values.hours))),
        });
      }
    }
    console.table(results);
    console.log(
      `load average at the end: ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    stopNode(single);
    stopCitusCluster(cluster);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
