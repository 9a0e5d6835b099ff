/**
 * A Citus cluster on this machine for `npm run test:scale`: a coordinator and two workers, each
 * a fresh Debian PostgreSQL 15 data directory under .data/scale/citus/, on free ports, reachable
 * on 127.0.0.1 only (trust authentication). Run as root, PostgreSQL's programs run as the
 * `postgres` system user, which owns the data directories.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PG15_BIN } from './software';
import { prepareCitusDatabase } from '../setup/citus-database';

const ROOT = path.resolve(__dirname, '..', '..');
export const CITUS_DIR = path.join(ROOT, '.data', 'scale', 'citus');
const USER = 'postgres';

export interface CitusNode {
  name: string;
  port: number;
  dataDir: string;
}

export interface CitusCluster {
  coordinator: CitusNode;
  workers: CitusNode[];
}

/** The server's `postgres` database on a node, or another database. */
export function nodeUrl(node: CitusNode, database = 'postgres'): string {
  return `postgresql://${USER}@127.0.0.1:${node.port}/${database}`;
}

function ids(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) {
    return {};
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

function pg(bin: string, args: string[]): string {
  return execFileSync(path.join(PG15_BIN, bin), args, {
    ...ids(),
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// As root, the `postgres` user must reach the data directories through the checkout, which may
// sit in a private directory (mktemp -d in CI): grant traversal, not reading, on the way there.
function allowTraversal(dir: string): void {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const { mode } = statSync(d);
    if ((mode & 0o001) === 0) {
      chmodSync(d, mode | 0o001);
    }
  }
}

const SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  "shared_preload_libraries = 'citus'",
  // Few shards keep a test run fast; production keeps Citus's default (32).
  'citus.shard_count = 4',
  // Nodes talk over loopback: no TLS between them.
  "citus.node_conninfo = 'sslmode=disable'",
  'max_connections = 200',
  // A test cluster: durability is not under test here, speed is welcome.
  'fsync = off',
  'synchronous_commit = off',
  'full_page_writes = off',
  "timezone = 'UTC'",
];

function initNode(node: CitusNode, settings = SETTINGS): void {
  const { uid, gid } = ids();
  mkdirSync(node.dataDir, { recursive: true, mode: 0o700 });
  if (uid !== undefined) {
    chownSync(node.dataDir, uid, gid!);
  }
  pg('initdb', ['-D', node.dataDir, '-U', USER, '--auth=trust', '--encoding=UTF8', '--locale=C']);
  appendFileSync(
    path.join(node.dataDir, 'postgresql.conf'),
    [`port = ${node.port}`, ...settings, ''].join('\n'),
  );
}

function startNode(node: CitusNode): void {
  const log = path.join(node.dataDir, 'server.log');
  try {
    pg('pg_ctl', ['-D', node.dataDir, '-l', log, '-w', '-t', '60', 'start']);
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '';
    throw new Error(`Citus node ${node.name} did not start on port ${node.port}: ${tail}`, {
      cause: error,
    });
  }
}

function stopNode(node: CitusNode): void {
  if (!existsSync(path.join(node.dataDir, 'postmaster.pid'))) {
    return;
  }
  spawnSync(path.join(PG15_BIN, 'pg_ctl'), ['-D', node.dataDir, '-m', 'fast', '-w', 'stop'], {
    ...ids(),
    stdio: 'ignore',
  });
}

/** Stops every node of a cluster started from CITUS_DIR (a previous run's left-overs too). */
export function stopCitusCluster(cluster?: CitusCluster): void {
  const nodes = cluster
    ? [...cluster.workers, cluster.coordinator]
    : ['worker-1', 'worker-2', 'coordinator'].map((name) => ({
        name,
        port: 0,
        dataDir: path.join(CITUS_DIR, name),
      }));
  for (const node of nodes) {
    stopNode(node);
  }
}

/** A fresh coordinator and `workers` workers, started, with Citus in their `postgres` database. */
export async function startCitusCluster(workers = 2): Promise<CitusCluster> {
  stopCitusCluster();
  rmSync(CITUS_DIR, { recursive: true, force: true });
  mkdirSync(CITUS_DIR, { recursive: true });
  allowTraversal(CITUS_DIR);
  const names = ['coordinator', ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`)];
  const nodes: CitusNode[] = [];
  for (const name of names) {
    nodes.push({ name, port: await freePort(), dataDir: path.join(CITUS_DIR, name) });
  }
  const cluster = { coordinator: nodes[0], workers: nodes.slice(1) };
  try {
    for (const node of nodes) {
      initNode(node);
      startNode(node);
    }
    await prepareCitusDatabase(
      nodeUrl(cluster.coordinator),
      cluster.workers.map((worker) => nodeUrl(worker)),
    );
  } catch (error) {
    stopCitusCluster(cluster);
    throw error;
  }
  return cluster;
}

/**
 * One plain PostgreSQL 15 node with the cluster's settings but no Citus (for figures comparing
 * one node with the cluster), under .data/scale/single.
 */
export async function startPlainNode(): Promise<CitusNode> {
  const node = {
    name: 'single',
    port: await freePort(),
    dataDir: path.join(ROOT, '.data', 'scale', 'single'),
  };
  stopNode(node);
  rmSync(node.dataDir, { recursive: true, force: true });
  mkdirSync(path.dirname(node.dataDir), { recursive: true });
  allowTraversal(path.dirname(node.dataDir));
  initNode(
    node,
    SETTINGS.filter((setting) => !/citus/.test(setting)),
  );
  startNode(node);
  return node;
}

export { stopNode };
