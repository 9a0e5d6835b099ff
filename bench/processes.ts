import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from '../src/db/embedded-postgres';

export const ROOT = path.resolve(__dirname, '..');
/** Child output goes here (under the gitignored .data/) so a failed run can be read afterwards. */
export const LOG_DIR = path.join(ROOT, '.data', 'bench-logs');

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

const running = new Set<Child>();

/** Starts a child whose output goes to LOG_DIR/<name>.log; stopAll() ends it if nothing else does. */
export function start(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const log = path.join(LOG_DIR, `${name}.log`);
  const out = fs.openSync(log, 'w');
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  if (proc.pid === undefined) {
    throw new Error(`could not start ${name}`);
  }
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const child: Child = { name, pid: proc.pid, proc, log, exited };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** A TypeScript entry point run by Node through ts-node (type checking is tsc's job, not ours). */
export function startTs(name: string, file: string, env: Record<string, string>): Child {
  return start(name, process.execPath, ['-r', 'ts-node/register/transpile-only', file], env);
}

/** Resolves when the child listens on port; fails with its log tail if it exits first. */
export async function listening(child: Child, port: number, timeoutMs = 60_000): Promise<void> {
  const died = child.exited.then((code) => {
    throw new Error(`${child.name} exited (${code}) before listening:\n${tail(child.log)}`);
  });
  await Promise.race([waitForPort(port, timeoutMs), died]);
}

/** SIGTERM, then SIGKILL if it has not exited after graceMs. */
export async function stop(child: Child, graceMs = 15_000): Promise<void> {
  if (!running.has(child)) {
    return;
  }
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stop(c)));
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function run(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = start(name, command, args, env);
  const code = await child.exited;
  const output = fs.readFileSync(child.log, 'utf8');
  if (code !== 0) {
    throw new Error(`${name} failed (${code}):\n${tail(child.log)}`);
  }
  return output;
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Samples a process's resident set from /proc while a measurement runs. */
export function sampleRss(
  pid: number,
  everyMs = 100,
): { stop(): { peakMb: number; samples: number } } {
  let peakKb = 0;
  let samples = 0;
  const read = () => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      peakKb = Math.max(peakKb, kb);
      samples++;
    } catch {
      // The process is gone; the samples taken so far stand.
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { peakMb: Math.round((peakKb / 1024) * 10) / 10, samples };
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds used so far by a process and its live children (e.g. a postmaster's backends). */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) {
        total += cpuSeconds(Number(entry)) || 0;
      }
    } catch {
      // Exited while being read.
    }
  }
  return total;
}
