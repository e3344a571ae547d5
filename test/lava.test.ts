// The LAVA backend without a LAVA server: URIs, the console frame, job logs, job
// definitions against LAVA 2023.01's own strict schema (Debian's lava-common),
// and LavaMachine's whole flow against a fake REST server that plays back a job.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { loadSuite } from '../harness/config.js';
import { TracebenchError } from '../harness/errors.js';
import { decodeFrame, encodeFrame, frameOutLines } from '../harness/lava/console-frame.js';
import { lavaToken, LavaClient } from '../harness/lava/client.js';
import { consoleOf, errorsOf, parseJobLog } from '../harness/lava/job-log.js';
import { lavaJob, type Artifact } from '../harness/lava/job-definition.js';
import { parseLavaUri } from '../harness/lava/uri.js';
import { LavaMachine, lavaCmdline, lavaJobFor, POST_HOC_VERDICT, stageJob } from '../harness/machines/lava.js';
import { parseMachineUri } from '../harness/machines/uri.js';
import { plan } from '../harness/plan.js';
import { bootRequestOf, plannedJob } from '../harness/run.js';
import { rejection } from './rejection.js';
import { validateLavaJobs } from './lava/validate.js';

const art = (name: string, compression?: Artifact['compression']): Artifact => ({ url: `http://127.0.0.1:8090/${name}`, sha256: 'a'.repeat(64), ...(compression ? { compression } : {}) });

describe('lava:// URIs', () => {
  test('defaults, canonical form, options', () => {
    const t = parseLavaUri('lava://127.0.0.1:8000?device_type=qemu&tags=tb-qemu-01&kvm=0');
    assert.equal(t.server, 'http://127.0.0.1:8000');
    assert.equal(t.uri, 'lava://127.0.0.1:8000?device_type=qemu&tags=tb-qemu-01&kvm=0');
    assert.deepEqual([t.deviceType, t.tags, t.noKvm, t.pin, t.artifactsListen], ['qemu', ['tb-qemu-01'], true, true, '127.0.0.1:0']);
    const far = parseLavaUri('lava://lava.lab.example?device_type=x86-kexec&https=1&device=box-3');
    assert.equal(far.server, 'https://lava.lab.example:443');
    assert.equal(far.device, 'box-3');
    assert.equal(far.artifactsListen, '0.0.0.0:0', 'a remote server needs the artifacts on every address');
    assert.equal(parseMachineUri('lava://127.0.0.1:8000').kind, 'lava');
  });
  test('bad values are refused, naming the field', () => {
    for (const [uri, field] of [
      ['lava://host;reboot', 'host'],
      ['lava://host?device_type=arm64', 'device_type'],
      ['lava://host?tags=a,$(id)', 'tag'],
      ['lava://host?device=-x', 'device'],
      ['lava://host?kvm=maybe', 'kvm'],
      ['lava://host?frobnicate=1', 'unknown option'],
      ['lava://host:70000', 'port'],
      ['lava://host?artifacts=nope', 'artifacts'],
    ] as const) {
      assert.throws(() => parseLavaUri(uri), (e: unknown) => e instanceof TracebenchError && e.exitCode === 2 && e.message.includes(field), uri);
    }
  });
});

describe('console frame', () => {
  const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
  const framed = encodeFrame(payload);
  test('round trip, with kernel messages and carriage returns between the lines', () => {
    const lines = ['TB-MARK job-end', ...framed.slice(0, 10), '[   12.345] random: crng init done', ...framed.slice(10)].map((l) => `${l}\r`);
    assert.deepEqual(decodeFrame(lines.join('\n'), 'job 1'), payload);
    assert.equal(decodeFrame('no frame here', 'job 1'), undefined);
  });
  test('the last frame wins (a retried print)', () => {
    const other = encodeFrame(Buffer.from('second'));
    assert.equal(decodeFrame([...framed, ...other].join('\n'), 'job 1')!.toString(), 'second');
  });
  test('a corrupted, truncated or gappy block is refused and named', () => {
    const flip = framed.map((l, i) => (i === 5 ? l.replace(/ ([A-Za-z])/, (_, c: string) => ` ${c === 'A' ? 'B' : 'A'}`) : l));
    assert.throws(() => decodeFrame(flip.join('\n'), 'LAVA job 9'), (e: unknown) => e instanceof TracebenchError && /LAVA job 9: the framed output block is corrupted/.test(e.message));
    assert.throws(() => decodeFrame(framed.slice(0, -3).join('\n'), 'LAVA job 9'), /is truncated/);
    assert.throws(() => decodeFrame(framed.filter((_, i) => i !== 7).join('\n'), 'LAVA job 9'), /lacks 1 of its \d+ lines \(first: line 7\)/);
  });
  test('the guest side prints what the host side reads (sh, tar, base64, awk)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-frame-'));
    mkdirSync(join(dir, 'out/boot'), { recursive: true });
    writeFileSync(join(dir, 'out/job.rc'), '0\n');
    writeFileSync(join(dir, 'out/boot/x.out'), 'hello\n'.repeat(2000));
    // the guest lines, with /dev/console redirected to stdout
    const sh = frameOutLines(dir).join('\n').replace('> /dev/console', '').replace('dmesg -n 1 2> /dev/null', 'true');
    const out = execFileSync('sh', ['-c', sh], { encoding: 'utf8' });
    const got = decodeFrame(out, 'guest');
    execFileSync('tar', ['-xzf', '-', '-C', mkdtempSync(join(tmpdir(), 'tb-unframe-'))], { input: got });
    assert.ok(got!.length > 20);
  });
});

const LOG = [
  '- {"dt": "2026-12-01T05:00:00.000001", "lvl": "info", "msg": "start: 1 tmpfs-deploy"}',
  '- {"dt": "2026-12-01T05:00:00.100000", "lvl": "results", "msg": {"case": "file-download", "definition": "lava", "duration": "0.01", "extra": {"label": "initrd", "size": ! "1028319"}, "result": "pass"}}',
  '- {"dt": "2026-12-01T05:00:01.000000", "lvl": "target", "msg": "TB-MARK init-up up=3.10"}',
  '- {"dt": "2026-12-01T05:00:02.000000", "lvl": "target", "msg": "TB-MARK job-start up=3.20"}',
  '- {"dt": "2026-12-01T05:00:09.000000", "lvl": "results", "msg": {"case": "job", "definition": "tracebench", "result": "pass"}}',
  '- {"dt": "2026-12-01T05:00:09.100000", "lvl": "error", "msg": "Connection closed"}',
  '- {"dt": "2026-12-01T05:00:09.200000", "lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "fail", "extra": {"error_msg": "wait for prompt timed out", "error_type": "Test"}}}',
  '- {"dt": "2026-12-01T05:00:09.3", "lvl": "targ',
].join('\n');

describe('LAVA job logs', () => {
  test('entries one per line (the ! tag of a size too), the console, and why a job failed', () => {
    const e = parseJobLog(LOG);
    assert.equal(e.length, 7, 'the cut-off last line is left for the next fetch');
    assert.equal(consoleOf(e), 'TB-MARK init-up up=3.10\nTB-MARK job-start up=3.20');
    assert.deepEqual(errorsOf(e), ['Connection closed', 'job: Test: wait for prompt timed out']);
  });
  for (const f of ['smoke-complete', 'smoke-incomplete']) {
    const file = new URL(`./fixtures/lava/${f}.log.yaml`, import.meta.url);
    test(`a real LAVA 2023.01 log (${f}) parses: console lines and LAVA's own results`, { skip: !existsSync(file) && 'fixture not captured yet' }, () => {
      const e = parseJobLog(readFileSync(file, 'utf8'));
      assert.ok(e.length > 10);
      assert.ok(e.some((x) => x.lvl === 'target'));
      assert.equal(e.length, (parse(readFileSync(file, 'utf8')) as unknown[]).length, 'line by line reads every entry the YAML holds');
      if (f.endsWith('incomplete')) assert.ok(errorsOf(e).length > 0, 'an Incomplete job says why');
    });
  }
});

describe('LAVA job definitions', () => {
  const suite = loadSuite('quick');
  const image = { kernel: '/img/vmlinuz', initrd: '/img/initrd.img', root: '/img/root.ext4', key: '0123456789abcdef' };
  const artifacts = { kernel: art('vmlinuz'), initrd: art('initrd.img'), root: art('root.qcow2'), job: art('job.ext4.gz', 'gz'), scratch: art('scratch-8G.qcow2') };
  const definitions = (uri: string) =>
    plan(suite).map((boot) => {
      const { driver, options } = plannedJob(suite, boot, { noisyRetries: 0 });
      return lavaJobFor(parseLavaUri(uri), bootRequestOf(suite, boot, image, driver, options, `/r/${boot.id}`), artifacts, { 'tracebench.boot': boot.id });
    });

  const images0 = (j: Record<string, any>) => j.actions[0].deploy.images;
  test('qemu: tmpfs deploy of kernel, initrd, root (qcow2 read in place), job disk and scratch; no login; a monitor on the marks', () => {
    const jobs = definitions('lava://127.0.0.1:8000?device_type=qemu&tags=tb-qemu-01&kvm=0');
    assert.equal(jobs.length, plan(suite).length);
    const j = parse(jobs.find((y) => y.includes('-ftrace'))!) as Record<string, any>;
    assert.equal(j.device_type, 'qemu');
    assert.deepEqual(j.tags, ['tb-qemu-01']);
    assert.equal(j.context.no_kvm, true);
    assert.ok(j.context.extra_options.includes('-cpu max'));
    // one host thread for both vCPUs: multi-threaded TCG races the tracers' text patching
    assert.ok(j.context.extra_options.includes('-accel tcg,thread=single'));
    assert.ok(!j.context.extra_options.some((o: string) => o.includes('accel=')), '-accel and -machine accel= cannot be combined');
    assert.ok(!images0(j).kernel.image_arg.includes('maxcpus=1'));
    const images = j.actions[0].deploy.images;
    assert.deepEqual(Object.keys(images).sort(), ['initrd', 'kernel', 'root', 'tbjob', 'tbscratch']);
    assert.ok(Object.values(images).every((i: any) => i.sha256sum === 'a'.repeat(64)));
    assert.equal(images.root.format, undefined, 'format: qcow2 would make LAVA convert the root to raw');
    assert.match(images.kernel.image_arg, /root=LABEL=tbroot .*tb\.share=LABEL=tbshare tb\.scratch=LABEL=tbscratch tb\.end=poweroff/);
    assert.match(images.kernel.image_arg, /tsc=reliable/, 'TCG: the same command line as a local TCG guest');
    assert.equal(j.actions[1].boot.method, 'qemu');
    assert.equal(j.actions[1].boot.prompts, undefined);
    const mon = j.actions[2].test.monitors[0];
    assert.equal(mon.end, 'TB-MARK poweroff');
    assert.ok(new RegExp(mon.pattern.replace(/\?P</g, '?<')).test('TB-MARK job-end up=12.0'));
    // the connection timeout (the monitor's wait for a line) covers the whole boot
    assert.equal(j.timeouts.connection.minutes, Math.ceil(suite.machine.bootTimeoutS / 60));
  });

  test('x86-kexec: the base OS stages the job, kernel and root (only when another), then kexec into the kernel under test', () => {
    const [y] = definitions('lava://lab.example?device_type=x86-kexec&device=box-3');
    const j = parse(y) as Record<string, any>;
    assert.deepEqual(j.tags, ['box-3']);
    assert.deepEqual(j.actions.map((a: object) => Object.keys(a)[0]), ['boot', 'test', 'boot', 'test']);
    assert.equal(j.actions[0].boot.method, 'minimal');
    const steps = j.actions[1].test.interactive[0].script;
    assert.deepEqual(steps.map((s: { name: string }) => s.name), ['share', 'job', 'kernel', 'root', 'scratch']);
    assert.match(steps[3].command, /root\.key.*0123456789abcdef/);
    assert.match(steps[3].command, /sha256sum \/run\/tbroot\.fifo/);
    assert.equal(j.actions[2].boot.method, 'kexec');
    assert.match(j.actions[2].boot.options[0], /^--append='.*tb\.end=reboot/);
    assert.equal(j.actions[3].test.monitors[0].end, 'TB-MARK reboot');
  });

  test("every definition of the quick suite, both device types, passes LAVA 2023.01's strict schema", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-lava-jobs-'));
    const files = [...definitions('lava://h?device_type=qemu&kvm=0'), ...definitions('lava://h?device_type=qemu'), ...definitions('lava://h?device_type=x86-kexec&tags=pool')].map((y, i) => {
      const f = join(dir, `${i}.yaml`);
      writeFileSync(f, y);
      return f;
    });
    const bad = validateLavaJobs(files).filter((r) => !r.ok);
    assert.deepEqual(bad, []);
    // and the schema is really applied: a broken definition is refused
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(files[0], 'utf8').replace('visibility: public', 'visibility: everyone'));
    assert.equal(validateLavaJobs([broken])[0].ok, false);
  });

  test('the kernel command line is words without quotes (it sits inside a quoted -append)', () => {
    assert.throws(() => lavaJob({ kind: 'qemu', name: 'x', metadata: {}, tags: [], timeoutS: 60, cmdline: ["a'b"], noKvm: true, cpus: 1, memoryMiB: 512, artifacts }), /quotes/);
    assert.deepEqual(lavaCmdline({ deviceType: 'qemu', noKvm: false }, ['trace_event=sched:*']).slice(-1), ['trace_event=sched:*']);
  });
});

describe('LAVA tokens', () => {
  test('TRACEBENCH_LAVA_TOKEN, else the lavacli identity of the same server', () => {
    const home = mkdtempSync(join(tmpdir(), 'tb-home-'));
    mkdirSync(join(home, '.config'));
    writeFileSync(join(home, '.config/lavacli.yaml'), 'other:\n  uri: http://elsewhere/RPC2\n  token: nope\nlab:\n  uri: https://lava.lab.example/RPC2\n  username: me\n  token: s3cret\n');
    assert.equal(lavaToken('https://lava.lab.example:443', { TRACEBENCH_LAVA_TOKEN: 'env' }, home)?.token, 'env');
    assert.equal(lavaToken('https://lava.lab.example:443', {}, home)?.token, 's3cret');
    assert.equal(lavaToken('http://lava.lab.example:8000', {}, home), undefined);
  });
});

/** A LAVA REST server that plays one scripted job per submission. */
class FakeLava {
  server!: Server;
  url = '';
  submitted: string[] = [];
  cancelled: number[] = [];
  polls = 0;
  constructor(
    private readonly play: (definition: string, id: number) => { health: 'Complete' | 'Incomplete' | 'Canceled'; log: string; failure?: string },
    private readonly token = 'good',
  ) {}
  async start() {
    this.server = createServer((req, res) => {
      const send = (code: number, body: unknown) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
      if (req.headers.authorization !== `Token ${this.token}`) return send(401, { detail: 'Invalid token.' });
      const u = req.url!;
      let m: RegExpExecArray | null;
      if (u === '/api/v0.2/system/whoami/') return send(200, { user: 'tb' });
      if (u === '/api/v0.2/jobs/' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          this.submitted.push(JSON.parse(body).definition);
          send(201, { job_ids: [this.submitted.length] });
        });
        return;
      }
      if ((m = /^\/api\/v0.2\/jobs\/(\d+)\/cancel\/$/.exec(u))) {
        this.cancelled.push(Number(m[1]));
        return send(200, { message: 'Job cancel signal sent.' });
      }
      if ((m = /^\/api\/v0.2\/jobs\/(\d+)\/logs\/(?:\?start=(\d+))?$/.exec(u))) {
        const p = this.play(this.submitted[Number(m[1]) - 1], Number(m[1]));
        return send(200, p.log.split('\n').slice(Number(m[2] ?? 0)).join('\n'));
      }
      if ((m = /^\/api\/v0.2\/jobs\/(\d+)\/$/.exec(u))) {
        const id = Number(m[1]);
        this.polls++;
        const p = this.play(this.submitted[id - 1], id);
        const done = this.polls % 3 === 0 || this.cancelled.includes(id);
        return send(200, { id, state: done ? 'Finished' : 'Running', health: done ? (this.cancelled.includes(id) ? 'Canceled' : p.health) : 'Unknown', actual_device: 'tb-qemu-01', failure_comment: done ? (p.failure ?? null) : null });
      }
      if (u === '/api/v0.2/devices/tb-qemu-01/') return send(200, { hostname: 'tb-qemu-01', worker_host: 'tb-worker', tags: [3], health: 'Good', state: 'Idle' });
      if (u.startsWith('/api/v0.2/tags/')) return send(200, { results: [{ id: 3, name: 'tb-qemu-01' }] });
      send(404, {});
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  stop() {
    this.server.close();
  }
}

/** The log of a job whose guest wrote `files` into out/ and printed the frame. */
function guestLog(files: Record<string, string>, opts: { corrupt?: boolean; panic?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-guest-out-'));
  mkdirSync(join(dir, 'out'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, 'out', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'out', rel), content);
  }
  const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, 'out']);
  let frame = encodeFrame(tgz);
  if (opts.corrupt) frame = frame.map((l, i) => (i === 1 ? l.slice(0, -4) + 'AAAA' : l));
  const target = ['TB-MARK init-up up=1.0', 'TB-MARK job-start up=1.1', 'TB-MARK workload dbench 1 try 1 up=2.0', ...(opts.panic ? ['Kernel panic - not syncing: sysrq triggered crash'] : ['TB-MARK frag dbench-run rc=0 up=5.0', 'TB-MARK job-end up=5.5', ...frame, 'TB-MARK poweroff'])];
  return target.map((t, i) => `- {"dt": "2026-12-01T05:00:${String(i % 60).padStart(2, '0')}.000000", "lvl": "target", "msg": ${JSON.stringify(t)}}`).join('\n') + '\n';
}

describe('LavaMachine against a fake LAVA server', () => {
  let cache: string;
  let image: { kernel: string; initrd: string; root: string; key: string };
  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'tb-lava-cache-'));
    process.env.XDG_CACHE_HOME = cache;
    const img = mkdtempSync(join(tmpdir(), 'tb-lava-img-'));
    writeFileSync(join(img, 'vmlinuz'), 'kernel');
    writeFileSync(join(img, 'initrd.img'), 'initrd');
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-L', 'tbroot', join(img, 'root.ext4'), '8M']);
    image = { kernel: join(img, 'vmlinuz'), initrd: join(img, 'initrd.img'), root: join(img, 'root.ext4'), key: 'fake0000' };
  });
  after(() => {
    delete process.env.XDG_CACHE_HOME;
  });

  const jobDir = () => {
    const d = join(mkdtempSync(join(tmpdir(), 'tb-lava-run-')), 'results/run-1/raw/boot-001-r1-debian-ftrace');
    mkdirSync(join(d, 'frag'), { recursive: true });
    mkdirSync(join(d, 'ctl'), { recursive: true });
    writeFileSync(join(d, 'job.sh'), 'echo job\n');
    writeFileSync(join(d, 'frag/tracer-armed.sh'), 'true\n');
    return d;
  };
  const req = (dir: string, extra: object = {}) => ({ name: 'tracebench-boot-001-r1-debian-ftrace', image, extraCmdline: [], cpus: 2, memoryMiB: 1024, scratchGiB: 1, jobDir: dir, timeoutS: 60, ...extra });
  const machine = (fake: FakeLava, token = 'good') => new LavaMachine({ target: parseLavaUri(`lava://${fake.url.slice(7)}?device_type=qemu&kvm=0`), client: new LavaClient(fake.url, token), pollS: 0.01 });

  test('a token the server refuses is exit 3 naming the server', async () => {
    const fake = await new FakeLava(() => ({ health: 'Complete', log: '' })).start();
    try {
      const e = await rejection(machine(fake, 'bad').check());
      assert.equal(e.exitCode, 3);
      assert.match(e.message, new RegExp(`LAVA server ${fake.url}: .*refused the token`));
    } finally {
      fake.stop();
    }
  });

  test('a job: artifacts served with their sha256, outputs cut from the console into the boot, device and worker recorded, pinned after', async () => {
    const fake = await new FakeLava(() => ({ health: 'Complete', log: guestLog({ 'job.rc': '0\n', 'boot/tracer-armed.out': 'sched:sched_switch\n', 'boot/tracer-armed.status': 'rc=0 start=1 end=2\n', 'kut-facts.txt': 'cpu_model=QEMU TCG CPU\nkernel=6.12\n' }) })).start();
    const m = machine(fake);
    try {
      await m.check();
      await m.prepare(image);
      const dir = jobDir();
      const marks: string[] = [];
      let ticks = 0;
      const r = await m.boot(req(dir, { onMark: (t: string) => marks.push(t), onTick: () => ticks++ }));
      assert.equal(r.status, 'finished', r.message);
      assert.equal(r.device, 'tb-qemu-01');
      assert.deepEqual([r.details!.lavaJob, r.details!.lavaDevice, r.details!.lavaWorker, r.details!.lavaHealth], [1, 'tb-qemu-01', 'tb-worker', 'Complete']);
      assert.ok(marks.includes('job-end') && marks.includes('workload dbench 1 try 1'));
      assert.equal(ticks, 1, 'the armed set is checked once the outputs are back');
      assert.equal(readFileSync(join(dir, 'out/boot/tracer-armed.out'), 'utf8'), 'sched:sched_switch\n');
      assert.match(readFileSync(join(dir, 'console.log'), 'utf8'), /TB-MARK poweroff/);
      assert.ok(existsSync(join(dir, 'lava/job.yaml')) && existsSync(join(dir, 'lava/job-log.yaml')));
      // what was submitted: served URLs whose bytes hash to the sums in the definition
      const def = parse(fake.submitted[0]) as { actions: { deploy?: { images: Record<string, { url: string; sha256sum: string }> } }[] };
      for (const [label, im] of Object.entries(def.actions[0].deploy!.images)) {
        const body = Buffer.from(await (await fetch(im.url)).arrayBuffer());
        const { createHash } = await import('node:crypto');
        assert.equal(createHash('sha256').update(body).digest('hex'), im.sha256sum, label);
      }
      // the job disk carries the job under a wrapper and a verdict answered in advance
      const disk = join(dir, 'lava/job.ext4.gz');
      assert.ok(existsSync(disk));
      // the next boot is pinned to the device the first one ran on
      await m.boot(req(jobDir()));
      assert.deepEqual((parse(fake.submitted[1]) as { tags: string[] }).tags, ['tb-qemu-01']);
    } finally {
      await m.close();
      fake.stop();
    }
  });

  test('Incomplete, a panic, a corrupted frame: failed boots that say why; Ctrl-C cancels the job', async () => {
    const fake = await new FakeLava((def, id) =>
      id === 1 ? { health: 'Incomplete', log: guestLog({}, { panic: true }), failure: 'Connection closed' } : id === 2 ? { health: 'Complete', log: guestLog({ 'job.rc': '0\n' }, { corrupt: true }) } : { health: 'Incomplete', log: '- {"dt": "x", "lvl": "error", "msg": "Unable to download http://x/root.qcow2"}\n', failure: 'Download failed' },
    ).start();
    const m = machine(fake);
    try {
      await m.prepare(image);
      const panic = await m.boot(req(jobDir()));
      assert.equal(panic.status, 'panic');
      const corrupt = await m.boot(req(jobDir()));
      assert.equal(corrupt.status, 'job-failed');
      assert.match(corrupt.message!, /LAVA job 2: the framed output block/);
      const incomplete = await m.boot(req(jobDir()));
      assert.equal(incomplete.status, 'job-failed');
      assert.match(incomplete.message!, /LAVA job 3 Incomplete on tb-qemu-01: Download failed; Unable to download/);
      await assert.rejects(m.boot(req(jobDir(), { cancelled: () => fake.submitted.length === 4 })), /not started, the run was interrupted/);
      assert.deepEqual(fake.cancelled, [4]);
    } finally {
      await m.close();
      fake.stop();
    }
  });

  test('a resumed run is pinned to the device its recorded boots ran on, from its first new boot', async () => {
    const fake = await new FakeLava(() => ({ health: 'Complete', log: guestLog({ 'job.rc': '0\n' }) })).start();
    const m = machine(fake);
    try {
      await m.prepare(image);
      m.resumeOn(['tb-qemu-01']);
      await m.boot(req(jobDir()));
      assert.deepEqual((parse(fake.submitted[0]) as { tags: string[] }).tags, ['tb-qemu-01']);
    } finally {
      await m.close();
      fake.stop();
    }
  });

  test('the staged job: the harness job under a wrapper that frames out/, the verdict answered in advance', () => {
    const dir = jobDir();
    stageJob(dir, join(dir, 'stage'));
    assert.equal(readFileSync(join(dir, 'stage/job-main.sh'), 'utf8'), 'echo job\n');
    assert.equal(readFileSync(join(dir, 'stage/ctl/verdict'), 'utf8'), `${POST_HOC_VERDICT}\n`);
    const wrapper = readFileSync(join(dir, 'stage/job.sh'), 'utf8');
    assert.match(wrapper, /sh \/tb\/job-main\.sh\nrc=\$\?\necho \$rc > \/tb\/out\/job\.rc/);
    assert.match(wrapper, /TB-OUT-BEGIN/);
    execFileSync('sh', ['-n', join(dir, 'stage/job.sh')]);
  });
});
