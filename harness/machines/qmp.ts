// A minimal QMP client (QEMU Machine Protocol, docs/interop/qmp-spec.rst) for
// a `-qmp unix:<path>,server,nowait` socket, and vCPU pinning built on it: QMP's
// query-cpus-fast names each vCPU's host thread id, which is how libvirt pins
// (<vcpupin>); mmtests' run-kvm.sh relies on libvirt for the same.
// Messages are JSON objects, one per line. The server greets first; commands
// answer {"return": ...} or {"error": {"class", "desc"}}; asynchronous
// {"event": ...} messages may arrive between them at any time.
import { createConnection, type Socket } from 'node:net';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';

/**
 * How long a QMP answer may take. query-cpus-fast answers without stopping the
 * vCPUs, so a live QEMU replies in milliseconds; seconds mean it is wedged.
 */
const REPLY_TIMEOUT_MS = 10_000;

type Message = Record<string, unknown>;

export interface QmpGreeting {
  version?: { qemu?: { major: number; minor: number; micro: number }; package?: string };
  capabilities?: string[];
}

function qmpFailure(socketPath: string, what: string, cause?: unknown): TracebenchError {
  return new TracebenchError({
    message: `QMP on ${socketPath}: ${what}`,
    hint: 'is QEMU running with -qmp unix:<path>,server,nowait, and no other client connected to it?',
    exitCode: ExitCode.host,
    cause,
  });
}

export class QmpClient {
  private buffered = '';
  private queue: Message[] = [];
  private waiter: ((m: Message | Error) => void) | undefined;
  private closedWith: Error | undefined;
  private nextId = 1;
  private turn: Promise<unknown> = Promise.resolve();
  /** what the server said about itself (QEMU version, capabilities) */
  greeting: QmpGreeting = {};

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.fail(qmpFailure(socketPath, e.message, e)));
    socket.on('close', () => this.fail(qmpFailure(socketPath, 'QEMU closed the connection')));
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode, so commands can run. */
  static async connect(socketPath: string): Promise<QmpClient> {
    const socket = createConnection(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) => reject(qmpFailure(socketPath, `cannot connect (${e.message})`, e)));
    });
    const c = new QmpClient(socket, socketPath);
    try {
      const greeting = await c.next();
      if (!('QMP' in greeting)) throw qmpFailure(socketPath, `expected the QMP greeting, got ${JSON.stringify(greeting)}`);
      c.greeting = greeting.QMP as QmpGreeting;
      await c.execute('qmp_capabilities');
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** Runs one command; resolves to its `return` value, throws with QMP's error.desc. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    // one command at a time: the reader hands each message to a single waiter
    const run = this.turn.then(() => this.roundTrip<T>(command, args));
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async roundTrip<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    // the id comes back in the reply: a stray reply can never be taken for this one
    const id = `tb-${this.nextId++}`;
    this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    for (;;) {
      const m = await this.next();
      if ('event' in m) continue;
      if (m.id !== id) continue;
      if ('error' in m) {
        const err = m.error as { class?: string; desc?: string };
        throw qmpFailure(this.socketPath, `${command} failed: ${err.desc ?? JSON.stringify(err)}${err.class ? ` (${err.class})` : ''}`);
      }
      if ('return' in m) return m.return as T;
      throw qmpFailure(this.socketPath, `${command}: unexpected reply ${JSON.stringify(m)}`);
    }
  }

  close(): void {
    this.closedWith ??= qmpFailure(this.socketPath, 'connection closed');
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (!line) continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch (e) {
        this.fail(qmpFailure(this.socketPath, `not JSON: ${line.slice(0, 200)}`, e));
        return;
      }
      if (typeof m !== 'object' || m === null || Array.isArray(m)) {
        this.fail(qmpFailure(this.socketPath, `not a QMP message: ${line.slice(0, 200)}`));
        return;
      }
      this.deliver(m as Message);
    }
  }

  private deliver(m: Message | Error): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(m);
    } else if (!(m instanceof Error)) {
      this.queue.push(m);
    }
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    this.deliver(this.closedWith);
  }

  private next(): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(qmpFailure(this.socketPath, `no reply in ${REPLY_TIMEOUT_MS / 1000} s`));
      }, REPLY_TIMEOUT_MS);
      this.waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
    });
  }
}

export interface VcpuThread {
  cpuIndex: number;
  /** the host thread (TID) that runs this vCPU */
  threadId: number;
}

/** Each vCPU's host thread, by query-cpus-fast (QEMU ≥ 2.12; it does not interrupt the guest). */
export async function vcpuThreads(socketPath: string): Promise<VcpuThread[]> {
  const c = await QmpClient.connect(socketPath);
  try {
    const cpus = await c.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast');
    return cpus.map((x) => ({ cpuIndex: x['cpu-index'], threadId: x['thread-id'] })).sort((a, b) => a.cpuIndex - b.cpuIndex);
  } finally {
    c.close();
  }
}

export interface PinAssignment {
  threadId: number;
  core: number;
}

/**
 * One vCPU per host core, in vCPU order over `hostCores` in the order given.
 * The caller leaves out the cores meant for QEMU's I/O thread and the harness.
 */
export function pinPlan(threads: VcpuThread[], hostCores: number[]): PinAssignment[] {
  const cores = [...new Set(hostCores)];
  if (cores.length < threads.length) {
    throw new TracebenchError({
      message: `cannot pin ${threads.length} vCPUs one per host core: only ${cores.length} host core${cores.length === 1 ? '' : 's'} given (${cores.join(',') || 'none'})`,
      hint: 'give the guest fewer vCPUs (machine.cpus) or run on a host with more cores',
      exitCode: ExitCode.usage,
    });
  }
  return [...threads].sort((a, b) => a.cpuIndex - b.cpuIndex).map((t, i) => ({ threadId: t.threadId, core: cores[i] }));
}

/** Applies a plan with `taskset -pc <core> <tid>` (util-linux): -p without -a sets that one thread only. */
export async function pinVcpus(plan: PinAssignment[]): Promise<void> {
  for (const p of plan) {
    const r = await execa('taskset', ['-pc', String(p.core), String(p.threadId)], { reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      throw new TracebenchError({
        message: `taskset could not pin thread ${p.threadId} to CPU ${p.core}: ${r.all?.trim() || (r as { shortMessage?: string }).shortMessage || `exit ${r.exitCode}`}`,
        hint: 'is util-linux installed (taskset), the CPU online, and the thread ours to change (root)?',
        exitCode: ExitCode.host,
      });
    }
  }
}
