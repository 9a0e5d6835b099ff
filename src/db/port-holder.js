'use strict';
// Who holds a TCP port, so that a start-up that finds its port taken can say so. On Linux,
// /proc/net/tcp{,6} gives the listening socket's inode and /proc/<pid>/fd the process that has
// it open; `ss -ltnp` is asked when /proc cannot tell (another user's process). Null when
// nothing can tell: the caller still names the port and what to do.
// Plain CommonJS, beside embedded-postgres.js, which uses it as src/main.ts does.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');

function listeningInodes(port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) {
        inodes.add(f[9]);
      }
    }
  }
  return inodes;
}

function pidsHolding(inodes) {
  if (inodes.size === 0) {
    return [];
  }
  const sockets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const pids = [];
  let entries;
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return pids;
  }
  for (const pid of entries) {
    let fds;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (sockets.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) {
          pids.push(Number(pid));
          break;
        }
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return pids.sort((a, b) => a - b);
}

function pidsFromSs(port) {
  const result = spawnSync('ss', ['-Hltnp', `sport = :${port}`], {
    encoding: 'utf8',
    timeout: 2000,
  });
  if (result.status !== 0 || !result.stdout) {
    return [];
  }
  return [...new Set([...result.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))].sort(
    (a, b) => a - b,
  );
}

function commandLine(pid) {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (args.length > 0) {
      return args.join(' ').replace(/\s+/g, ' ');
    }
  } catch {
    // Not Linux, or gone.
  }
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/**
 * The process listening on `port`, as { pid, command, others } (command may be null), or null
 * when that cannot be told. With several processes sharing the socket (a server's workers), the
 * lowest pid, usually their parent, is named.
 */
function portHolder(port) {
  let pids;
  try {
    pids = pidsHolding(listeningInodes(port));
    if (pids.length === 0) {
      pids = pidsFromSs(port);
    }
  } catch {
    return null;
  }
  if (pids.length === 0) {
    return null;
  }
  const command = commandLine(pids[0]);
  return {
    pid: pids[0],
    command: command && command.length > 200 ? `${command.slice(0, 197)}...` : command,
    others: pids.length - 1,
  };
}

/** "pid 123 (postgres -D …)" or a hint for finding out, for a sentence "… is in use by …". */
function describeHolder(port) {
  const holder = portHolder(port);
  if (holder === null) {
    return `another process (which one could not be told; \`sudo ss -ltnp 'sport = :${port}'\` shows it)`;
  }
  const others = holder.others > 0 ? ` and ${holder.others} more` : '';
  return `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}${others}`;
}

/** Whether something already listens where a server binding `host`:`port` would collide. */
function isPortTaken(port, host = '127.0.0.1') {
  const script = `const s = require('net').createServer();
    s.once('error', (e) => process.exit(e.code === 'EADDRINUSE' ? 3 : 0));
    s.listen(${Number(port)}, ${JSON.stringify(host)}, () => s.close(() => process.exit(0)));`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'ignore' }).status === 3;
}

/** A free port just above `port`, to suggest in a message (`port + 1` when none is found). */
function freePortNear(port, host = '127.0.0.1') {
  for (let p = port + 1; p <= Math.min(65535, port + 10); p++) {
    if (!isPortTaken(p, host)) {
      return p;
    }
  }
  return port + 1;
}

module.exports = { portHolder, describeHolder, isPortTaken, freePortNear };
