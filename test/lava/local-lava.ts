// A local LAVA 2023.01 instance for the LAVA backend's tests, started by hand
// without systemd: PostgreSQL (pg_ctlcluster), gunicorn3 (web, REST v0.2,
// XML-RPC), lava-publisher, lava-scheduler and lava-worker, in "fast mode"
// (events on, worker pings every 2 s) so that a job is picked up in about a
// second instead of up to 2 x 20 s of polling. One QEMU device (TCG: no_kvm)
// with a device tag, an admin user and an API token, all created idempotently.
//
//   const lava = await startLocalLava();   // ~10 s when installed
//   … POST ${lava.url}/api/v0.2/jobs/ with `Authorization: Token ${lava.token}` …
//   await lava.stop();
//
// The packages come from prepareHost (harness/doctor.ts, LAVA_TEST_PACKAGES),
// which `npm test`'s pretest runs. Needs root.
//
// One instance per machine: its database and /etc/lava-server are the
// machine's, so a start waits for the machine-wide lock LAVA_LOCK (held by a
// helper process that dies with this Node process, so a crashed run never
// leaves it held). Under the lock it first kills whatever a previous run left
// behind (processes carrying the TB_LOCAL_LAVA environment marker, the
// lava-run jobs of the instance's worker directory and their QEMUs), cancels
// that run's unfinished jobs, and re-reads the worker's token from the database
// on every start (it changes when the worker is re-created).
//
// Writes no file under /etc/lava-server/settings.d: the fast-mode settings
// (EVENT_NOTIFICATION, EVENT_SOCKET, INTERNAL_EVENT_SOCKET, DJANGO_LOGFILE)
// reach only the daemons it starts, through LAVA's LAVA_SETTINGS_* /
// LAVA_YAML_SETTINGS_* environment variables (lava_server/settings/prod.py).
// It writes the device dictionary
// /etc/lava-server/dispatcher-config/devices/<device>.jinja2 (setup-instance.py).
//
// Guests booted by its jobs use the machine's CPUs: callers that run jobs hold
// /tmp/tb-guest.lock (run the test file under `flock /tmp/tb-guest.lock …`).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface LocalLava {
  /** http://127.0.0.1:<port>: gunicorn (web UI, /api/v0.2/, /RPC2) */
  url: string;
  /** API token of `user`: header `Authorization: Token <token>` (REST), or http://user:token@…/RPC2 (lavacli) */
  token: string;
  /** the superuser that owns `token` */
  user: string;
  /** the one QEMU device, e.g. 'tb-qemu-01' */
  device: string;
  deviceType: 'qemu';
  /** the device's tags: a job with `tags: [these]` runs on `device` */
  tags: string[];
  /** the lava-worker's name */
  worker: string;
  /** every daemon's log, and start.log (what start-up did, with timings) */
  logDir: string;
  /** stops the processes this start started (and their jobs' lava-run and QEMU), and PostgreSQL if it started it */
  stop(): Promise<void>;
}

export interface LocalLavaOptions {
  /** logs, run sockets and the worker's directory (default: $TMPDIR/tracebench-lava) */
  dir?: string;
  /** gunicorn's port on 127.0.0.1 (default: a free port) */
  port?: number;
  /** how long to wait for another run's instance to stop (default 1800 s) */
  lockTimeoutS?: number;
  /** how long to wait for the instance to be ready once started (default 120 s) */
  readyTimeoutS?: number;
}

/** The names the instance uses; the device is tagged with its own name. */
export const LOCAL_LAVA = { user: 'tb-admin', worker: 'tb-worker', device: 'tb-qemu-01', tag: 'tb-qemu-01', tokenDescription: 'tracebench local-lava' } as const;

/** Machine-wide: one local LAVA instance at a time (shared database and configuration). */
export const LAVA_LOCK = '/tmp/tb-lava.lock';
/** The pids of the instance that holds LAVA_LOCK (machine-wide too, whatever its dir). */
const LAVA_STATE = '/tmp/tb-lava.state.json';

/**
 * The device dictionary. Minimal on purpose: a `{% set %}` here silently overrides the
 * job's `context` (memory, extra_options…), and every device dictionary variable wins.
 */
export const DEVICE_DICTIONARY = "{% extends 'qemu.jinja2' %}\n{% set no_kvm = True %}\n";

/** Environment marker on every daemon it starts: what a later start kills as left over. */
const MARK = 'TB_LOCAL_LAVA';
/** A start in this process holds the lock (until its stop()). */
let running = false;
/** Debian's Python: the one with Django and LAVA (PATH may lead to another, e.g. pyenv). */
const PYTHON = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now() / 1000;

/** Starts (or restarts after a crashed run) the local LAVA instance and waits until its device is Idle. */
export async function startLocalLava(opts: LocalLavaOptions = {}): Promise<LocalLava> {
  const t0 = now();
  preflight();
  // the lock is this process's: a second start would wait for itself
  if (running) throw new Error('local LAVA: already started in this process; stop() it first');
  const dir = resolve(opts.dir ?? join(tmpdir(), 'tracebench-lava'));
  const logDir = join(dir, 'logs');
  const runDir = join(dir, 'run');
  const workerDir = join(dir, 'worker');
  for (const d of [dir, logDir, runDir, workerDir]) mkdirSync(d, { recursive: true });
  const lavaserver = userIds('lavaserver');
  chownSync(runDir, lavaserver.uid, lavaserver.gid);
  running = true;
  const lock = await acquireLock(opts.lockTimeoutS ?? 1800).catch((e: unknown) => {
    running = false;
    throw e;
  });
  // only now: another process's instance may have been using the same directory
  const startLog = join(logDir, 'start.log');
  writeFileSync(startLog, `start-up ${new Date().toISOString()} (pid ${process.pid})\n`);
  const say = (line: string) => appendFileSync(startLog, `${(now() - t0).toFixed(2)} s  ${line}\n`);
  say(`lock ${LAVA_LOCK} held`);
  const children: ChildProcess[] = [];
  const pids = () => children.map((c) => c.pid).filter((p): p is number => p !== undefined);
  const writeState = () => {
    const state: State = { workerDir, pids: pids().flatMap((pid) => (startTime(pid) ? [{ pid, start: startTime(pid)! }] : [])) };
    writeFileSync(LAVA_STATE, JSON.stringify(state) + '\n');
  };
  let pgStarted: string[] = [];
  let stopped = false;
  // a test process that exits without stop(): its daemons go with it (a later start cleans up the rest)
  const onExit = () => {
    for (const pid of pids()) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  };
  process.on('exit', onExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    await killTree(pids(), workerDir);
    rmSync(LAVA_STATE, { force: true });
    for (const c of pgStarted) {
      const [v, n] = c.split('/');
      await run('pg_ctlcluster', [v!, n!, 'stop', '-m', 'fast']).catch(() => undefined);
    }
    // the holder's group: flock and the tail that holds the lock's descriptor
    try {
      process.kill(-lock.pid!, 'SIGTERM');
    } catch {
      // gone
    }
    running = false;
    say('stopped');
  };

  try {
    const left = findStale(workerDir);
    const stale = await killTree(left.pids, ...left.workerDirs);
    writeState();
    if (stale.length) say(`killed processes left over from a previous run: ${stale.join(' ')}`);
    pgStarted = await startPostgres();
    say(pgStarted.length ? `started PostgreSQL cluster(s) ${pgStarted.join(' ')}` : 'PostgreSQL already running');
    await ensureDatabase(logDir, say);

    const port = opts.port ?? (await freePort());
    if (opts.port !== undefined && !(await portFree(port))) throw new Error(`local LAVA: port 127.0.0.1:${port} is in use`);
    const [pubPort, eventPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const eventUrl = `tcp://127.0.0.1:${eventPort}`;
    const logFile = (name: string) => {
      const f = join(logDir, name);
      writeFileSync(f, '');
      chownSync(f, lavaserver.uid, lavaserver.gid);
      return f;
    };
    const serverEnv = {
      ...process.env,
      [MARK]: dir,
      LAVA_YAML_SETTINGS_EVENT_NOTIFICATION: 'true',
      LAVA_SETTINGS_EVENT_SOCKET: eventUrl,
      LAVA_SETTINGS_INTERNAL_EVENT_SOCKET: `ipc://${join(runDir, 'lava.events')}`,
      LAVA_SETTINGS_DJANGO_LOGFILE: logFile('django.log'),
    };
    const daemon = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
      const out = openSync(join(logDir, `${name}.out`), 'w');
      const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', out, out] });
      closeSync(out);
      child.unref();
      children.push(child);
      writeState();
      child.on('exit', (code, signal) => {
        if (!stopped) say(`${name} (pid ${child.pid}) exited: ${signal ?? `exit ${code}`}`);
      });
      say(`${name} started (pid ${child.pid})`);
      return child;
    };

    daemon('gunicorn', 'gunicorn3', ['lava_server.wsgi', '--log-level', 'INFO', '--log-file', logFile('gunicorn.log'), '-u', 'lavaserver', '-g', 'lavaserver', '--worker-class', 'eventlet', '--workers', '2', '--bind', `127.0.0.1:${port}`], serverEnv);
    daemon('lava-publisher', 'lava-server', ['manage', 'lava-publisher', '--level', 'INFO', '--log-file', logFile('lava-publisher.log'), '--host', '127.0.0.1', '--port', String(pubPort)], serverEnv);
    daemon('lava-scheduler', 'lava-server', ['manage', 'lava-scheduler', '--level', 'DEBUG', '--log-file', logFile('lava-scheduler.log'), '--event-url', eventUrl], serverEnv);

    // meanwhile: user, token, worker, device type, dictionary, device, tag; stale jobs canceled
    const args = { user: LOCAL_LAVA.user, tokenDescription: LOCAL_LAVA.tokenDescription, worker: LOCAL_LAVA.worker, device: LOCAL_LAVA.device, tag: LOCAL_LAVA.tag, dictionary: DEVICE_DICTIONARY };
    const setup = await run(PYTHON, [join(HERE, 'setup-instance.py'), JSON.stringify(args)], { env: { ...process.env, [MARK]: dir } }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`local LAVA: setup-instance.py failed: ${e.stderr || e.message}`);
    });
    const { token, workerToken, canceled } = JSON.parse(setup.stdout.trim().split('\n').pop()!) as { token: string; workerToken: string; canceled: number[] };
    say(`user, token, worker, device type, device and tag ready${canceled.length ? `; canceled left-over jobs ${canceled.join(' ')}` : ''}`);

    const deadline = now() + (opts.readyTimeoutS ?? 120);
    const alive = () => {
      const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new Error(`local LAVA: ${dead.spawnargs.slice(0, 3).join(' ')} exited (${dead.signalCode ?? `exit ${dead.exitCode}`}); see ${logDir}`);
    };
    await waitFor('gunicorn to answer /api/v0.2/', deadline, logDir, async () => {
      alive();
      const r = await fetch(`${url}/api/v0.2/`).catch(() => undefined);
      return r?.status === 200;
    });
    say(`gunicorn answers on ${url}`);

    // a fresh job database: a previous run's jobs must not be reported again
    rmSync(join(workerDir, 'db.sqlite3'), { force: true });
    daemon('lava-worker', 'lava-worker', ['--level', 'DEBUG', '--log-file', logFile('lava-worker.log'), '--url', `${url}/`, '--ws-url', `http://127.0.0.1:${pubPort}/ws/`, '--ping-interval', '2', '--job-log-interval', '1', '--token', workerToken, '--name', LOCAL_LAVA.worker, '--worker-dir', workerDir], { ...process.env, [MARK]: dir });

    const get = async (path: string) => {
      const r = await fetch(`${url}${path}`, { headers: { Authorization: `Token ${token}` } });
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
      return (await r.json()) as Record<string, unknown>;
    };
    await waitFor('the worker to be Online and the device Idle/Good', deadline, logDir, async () => {
      alive();
      const w = await get(`/api/v0.2/workers/${LOCAL_LAVA.worker}/`);
      if (w.state !== 'Online') return false;
      const d = await get(`/api/v0.2/devices/${LOCAL_LAVA.device}/`);
      return d.state === 'Idle' && d.health === 'Good';
    });
    say(`ready: worker Online, device Idle/Good (gunicorn :${port}, publisher :${pubPort}, events :${eventPort})`);

    return { url, token, user: LOCAL_LAVA.user, device: LOCAL_LAVA.device, deviceType: 'qemu', tags: [LOCAL_LAVA.tag], worker: LOCAL_LAVA.worker, logDir, stop };
  } catch (e) {
    say(`start-up failed: ${(e as Error).message}`);
    await stop();
    throw e;
  }
}

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('local LAVA needs root (gunicorn drops to lavaserver; lava-worker and lava-run run as root)');
  const missing = ['/usr/bin/lava-server', '/usr/bin/lava-worker', '/usr/bin/gunicorn3', '/usr/bin/pg_ctlcluster', PYTHON].filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`local LAVA: missing ${missing.join(', ')}; install the tests' packages: npx tsx bin/prepare-host.ts --browser (LAVA_TEST_PACKAGES in harness/doctor.ts)`);
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`local LAVA: no user ${name} (is lava-server installed?)`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * Holds LAVA_LOCK in a helper process (flock … tail --pid=<this process>), so the lock
 * goes with this Node process even when stop() is never called.
 */
async function acquireLock(timeoutS: number): Promise<ChildProcess> {
  const holder = spawn('flock', ['-w', String(timeoutS), LAVA_LOCK, 'sh', '-c', `echo locked; exec tail --pid=${process.pid} -f /dev/null`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  holder.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  await new Promise<void>((res, rej) => {
    holder.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('locked')) res();
    });
    holder.on('exit', (code) => rej(new Error(`local LAVA: ${LAVA_LOCK} still held by another run after ${timeoutS} s (flock exit ${code}) ${err}`)));
    holder.on('error', rej);
  });
  holder.stdout!.destroy();
  holder.stderr!.destroy();
  holder.unref();
  return holder;
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  zombie: boolean;
}

function procs(): Map<number, Proc> {
  const m = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      m.set(Number(d), { pid: Number(d), ppid: Number(f[1]), pgid: Number(f[2]), zombie: f[0] === 'Z' || f[0] === 'X' });
    } catch {
      // gone
    }
  }
  return m;
}

const readProc = (pid: number, what: 'environ' | 'cmdline') => {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'utf8').split('\0');
  } catch {
    return [];
  }
};

/** Jobs of this instance's worker: `lava-run … --output-dir=<workerDir>/tmp/<id>` (own process group, purged environment). */
const isOurJob = (pid: number, workerDir: string) => readProc(pid, 'cmdline').some((a) => a.startsWith(`--output-dir=${workerDir}/tmp/`));

/** Process start time (clock ticks since boot): a pid plus this names one process, even after pid reuse. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** What the running instance started, for a later start to kill if this run dies without stop(). */
interface State {
  workerDir: string;
  pids: { pid: number; start: string }[];
}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(LAVA_STATE, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

/**
 * Left over from a previous run (we hold the lock, so none of it is live): the processes
 * LAVA_STATE records (gunicorn's setproctitle overwrites its environment, hiding the
 * marker), every process with the marker, and the lava-run jobs of either worker directory.
 */
function findStale(workerDir: string): { pids: number[]; workerDirs: string[] } {
  const state = readState();
  const workerDirs = [...new Set([workerDir, ...(state ? [state.workerDir] : [])])];
  const recorded = (state?.pids ?? []).filter((p) => startTime(p.pid) === p.start).map((p) => p.pid);
  const marked = [...procs().keys()].filter((pid) => pid !== process.pid && (readProc(pid, 'environ').some((e) => e.startsWith(`${MARK}=`)) || workerDirs.some((w) => isOurJob(pid, w))));
  return { pids: [...new Set([...recorded, ...marked])], workerDirs };
}

/**
 * SIGTERM `roots`, their process groups and every descendant (a job's lava-run is in a
 * group of its own, its QEMU in a session of its own), plus our lava-run jobs, then SIGKILL
 * what is still there after 3 s (lava-publisher alone would take 5 s to drain its queue).
 * Returns the pids signalled.
 */
async function killTree(roots: number[], ...workerDirs: string[]): Promise<number[]> {
  const all = procs();
  const jobs = [...all.keys()].filter((pid) => workerDirs.some((w) => isOurJob(pid, w)));
  const targets = new Set<number>();
  const seeds = [...roots, ...jobs].filter((p) => all.has(p));
  for (const r of seeds) {
    targets.add(r);
    for (const p of all.values()) if (p.pgid === r) targets.add(p.pid);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all.values()) {
      if (!targets.has(p.pid) && targets.has(p.ppid)) {
        targets.add(p.pid);
        grew = true;
      }
    }
  }
  targets.delete(process.pid);
  const list = [...targets];
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const live = () => {
    const ps = procs();
    return list.filter((pid) => ps.has(pid) && !ps.get(pid)!.zombie);
  };
  const deadline = Date.now() + 3_000;
  while (live().length && Date.now() < deadline) await sleep(100);
  if (live().length) signal('SIGKILL');
  while (live().length && Date.now() < deadline + 5_000) await sleep(100);
  return list;
}

/** Starts the PostgreSQL clusters that are down; returns them as version/name (to stop them again). */
async function startPostgres(): Promise<string[]> {
  const { stdout } = await run('pg_lsclusters', ['-h']);
  const clusters = stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/));
  if (!clusters.length) throw new Error('local LAVA: no PostgreSQL cluster (pg_lsclusters is empty): create one with pg_createcluster 15 main');
  const started: string[] = [];
  for (const [v, name, , status] of clusters) {
    if (status === 'online') continue;
    await run('pg_ctlcluster', [v!, name!, 'start']).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`local LAVA: pg_ctlcluster ${v} ${name} start failed: ${e.stderr || e.message}`);
    });
    started.push(`${v}/${name}`);
  }
  for (let i = 0; i < 50; i++) {
    if ((await run('pg_isready', ['-q']).then(() => true, () => false))) return started;
    await sleep(200);
  }
  throw new Error('local LAVA: PostgreSQL does not accept connections (pg_isready)');
}

/**
 * lava-server's postinst creates and migrates the database only when PostgreSQL was
 * running at install time; if it was not, do now what it skipped.
 */
async function ensureDatabase(logDir: string, say: (l: string) => void): Promise<void> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', 'psql', '-tAc', "SELECT 1 FROM pg_database WHERE datname = 'lavaserver'"]);
  if (stdout.trim() === '1') return;
  say('no lavaserver database (lava-server was configured while PostgreSQL was down): running postinst.py --config --db');
  const r = await run(PYTHON, ['/usr/share/lava-server/postinst.py', '--config', '--db'], { maxBuffer: 64 << 20 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    writeFileSync(join(logDir, 'postinst.log'), `${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`local LAVA: /usr/share/lava-server/postinst.py --config --db failed: see ${join(logDir, 'postinst.log')}`);
  });
  writeFileSync(join(logDir, 'postinst.log'), `${r.stdout}${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.on('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function waitFor(what: string, deadline: number, logDir: string, ok: () => Promise<boolean>): Promise<void> {
  let last: unknown;
  while (now() < deadline) {
    try {
      if (await ok()) return;
    } catch (e) {
      if ((e as Error).message.startsWith('local LAVA:')) throw e;
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`local LAVA: timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}; see ${logDir}`);
}
