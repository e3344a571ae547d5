// The QMP client against a fake QMP server on a temporary unix socket that speaks
// the protocol as QEMU does (greeting, capabilities negotiation, returns, errors,
// asynchronous events in between), the pin plan, and taskset on a real process.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TracebenchError } from '../harness/errors.js';
import { pinPlan, pinVcpus, QmpClient, vcpuThreads } from '../harness/machines/qmp.js';
import { rejection } from './rejection.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-qmp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GREETING = { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] } };
const EVENT = { timestamp: { seconds: 1700000000, microseconds: 1 }, event: 'RTC_CHANGE', data: { offset: 0 } };

type Reply = Record<string, unknown>;
/** What the fake server answers to one command; it may also send events first. */
type Handler = (cmd: { execute: string; arguments?: unknown; id?: unknown }, sock: Socket) => Reply | undefined;

let sockets = 0;
/** A fake QEMU QMP socket; `received` collects the commands in order. */
async function fakeQmp(handle: Handler): Promise<{ path: string; received: string[]; server: Server }> {
  const path = join(dir, `qmp${sockets++}.sock`);
  const received: string[] = [];
  const server = createServer((sock) => {
    // QMP ends each message with CRLF
    const send = (m: unknown) => sock.write(JSON.stringify(m) + '\r\n');
    send(GREETING);
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        received.push(cmd.execute);
        if (cmd.execute === 'qmp_capabilities') {
          send({ return: {}, id: cmd.id });
          continue;
        }
        const r = handle(cmd, sock);
        if (r) send({ ...r, id: cmd.id });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  after(() => server.close());
  return { path, received, server };
}

const CPUS = [
  { 'cpu-index': 1, 'qom-path': '/machine/unattached/device[2]', 'thread-id': 4102, props: { 'core-id': 0, 'thread-id': 0, 'socket-id': 1 }, target: 'x86_64' },
  { 'cpu-index': 0, 'qom-path': '/machine/unattached/device[0]', 'thread-id': 4101, props: { 'core-id': 0, 'thread-id': 0, 'socket-id': 0 }, target: 'x86_64' },
];


describe('QmpClient', () => {
  it('greeting, capabilities, then a command; an event in between is skipped', async () => {
    const q = await fakeQmp((cmd, sock) => {
      // the event arrives in the same chunk as the start of the reply, the rest later
      const reply = JSON.stringify({ return: { status: 'running', running: true }, id: cmd.id }) + '\r\n';
      sock.write(JSON.stringify(EVENT) + '\r\n' + reply.slice(0, 10));
      setImmediate(() => sock.write(reply.slice(10)));
      return undefined;
    });
    const c = await QmpClient.connect(q.path);
    try {
      assert.equal(c.greeting.version?.qemu?.major, 7);
      assert.deepEqual(await c.execute('query-status'), { status: 'running', running: true });
      assert.deepEqual(q.received, ['qmp_capabilities', 'query-status']);
    } finally {
      c.close();
    }
  });

  it("an error reply throws with QMP's desc and class", async () => {
    const q = await fakeQmp(() => ({ error: { class: 'CommandNotFound', desc: "The command query-cpus has not been found" } }));
    const c = await QmpClient.connect(q.path);
    try {
      const e = await rejection(c.execute('query-cpus'));
      assert.equal(e.message, `QMP on ${q.path}: query-cpus failed: The command query-cpus has not been found (CommandNotFound)`);
      assert.equal(e.exitCode, 3);
      // the connection is still usable after an error
      await rejection(c.execute('query-cpus'));
    } finally {
      c.close();
    }
  });

  it('arguments are sent; QEMU closing the socket mid-command is an error, not a hang', async () => {
    let args: unknown;
    const q = await fakeQmp((cmd, sock) => {
      args = cmd.arguments;
      sock.destroy();
      return undefined;
    });
    const c = await QmpClient.connect(q.path);
    const e = await rejection(c.execute('human-monitor-command', { 'command-line': 'info cpus' }));
    assert.equal(e.message, `QMP on ${q.path}: QEMU closed the connection`);
    assert.deepEqual(args, { 'command-line': 'info cpus' });
    await rejection(c.execute('query-status'));
  });

  it('no socket: a host error that says so', async () => {
    const e = await rejection(QmpClient.connect(join(dir, 'absent.sock')));
    assert.match(e.message, /absent\.sock: cannot connect \(connect ENOENT/);
    assert.match(e.hint!, /-qmp unix:<path>,server,nowait/);
  });
});

describe('vcpuThreads', () => {
  it('query-cpus-fast -> cpu index and host thread id, in vCPU order, past an event', async () => {
    const q = await fakeQmp((cmd, sock) => {
      sock.write(JSON.stringify(EVENT) + '\r\n');
      return cmd.execute === 'query-cpus-fast' ? { return: CPUS } : { error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` } };
    });
    assert.deepEqual(await vcpuThreads(q.path), [
      { cpuIndex: 0, threadId: 4101 },
      { cpuIndex: 1, threadId: 4102 },
    ]);
    assert.deepEqual(q.received, ['qmp_capabilities', 'query-cpus-fast']);
  });
});

describe('pinPlan', () => {
  const threads = [
    { cpuIndex: 1, threadId: 4102 },
    { cpuIndex: 0, threadId: 4101 },
  ];

  it('one vCPU per host core, in vCPU order', () => {
    assert.deepEqual(pinPlan(threads, [2, 3, 1]), [
      { threadId: 4101, core: 2 },
      { threadId: 4102, core: 3 },
    ]);
  });

  it('fewer distinct cores than vCPUs: a clear usage error', () => {
    assert.throws(
      () => pinPlan(threads, [5, 5]),
      (e: unknown) => e instanceof TracebenchError && e.exitCode === 2 && e.message === 'cannot pin 2 vCPUs one per host core: only 1 host core given (5)',
    );
    assert.throws(() => pinPlan(threads, []), /only 0 host cores given \(none\)/);
  });

  it('no vCPUs: an empty plan', () => {
    assert.deepEqual(pinPlan([], [0]), []);
  });
});

describe('pinVcpus', () => {
  it('pins a real thread with taskset', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await pinVcpus([{ threadId: child.pid!, core: 0 }]);
      const allowed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      assert.equal(allowed, '0');
    } finally {
      child.kill();
    }
  });

  it('a thread that does not exist: a host error naming it', async () => {
    // above the kernel's pid_max ceiling (2^22), so no such thread can exist
    const e = await rejection(pinVcpus([{ threadId: 4_194_305, core: 0 }]));
    assert.match(e.message, /^taskset could not pin thread 4194305 to CPU 0: /);
    assert.equal(e.exitCode, 3);
  });
});

describe('QmpClient, commands issued together', () => {
  it('run one after another, each getting its own reply', async () => {
    const q = await fakeQmp((cmd) => ({ return: { echo: cmd.execute } }));
    const c = await QmpClient.connect(q.path);
    try {
      assert.deepEqual(await Promise.all([c.execute('query-status'), c.execute('query-name'), c.execute('query-kvm')]), [{ echo: 'query-status' }, { echo: 'query-name' }, { echo: 'query-kvm' }]);
    } finally {
      c.close();
    }
  });
});
