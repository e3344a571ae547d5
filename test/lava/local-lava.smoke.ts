// Smoke test of the local LAVA instance (not matched by `npm test`'s globs): starts it,
// submits two tiny QEMU (TCG) jobs through REST v0.2 — a busybox initramfs on a
// tracebench image's kernel, watched by a `monitors` test — and checks that the one
// whose guest prints the end marker is Complete with its result, and that the one
// whose guest powers off before the end marker is Incomplete. Boots guests, so:
//
//   flock /tmp/tb-guest.lock node --import tsx --test test/lava/local-lava.smoke.ts
//
// TB_LAVA_KERNEL=<bzImage> picks the kernel (default: the newest tracebench image's
// vmlinuz, else /boot/vmlinuz-*). TB_LAVA_FIXTURES=<dir> also writes each job's REST
// logs (YAML) and job JSON there: test/fixtures/lava/smoke-{complete,incomplete}.*
// were made so.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startLocalLava, type LocalLava } from './local-lava.js';
import { validateLavaJobs } from './validate.js';

/** The guest: prints the monitor's markers and one result, then powers off (tb.mode=incomplete: before the end marker). */
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo 1 > /proc/sys/kernel/sysrq
mode=complete
for a in $(cat /proc/cmdline); do case "$a" in tb.mode=*) mode="\${a#tb.mode=}";; esac; done
echo "TB-MARK job-start"
echo "TB-RESULT smoke pass 1 s"
[ "$mode" = complete ] && echo "TB-MARK out-end"
echo o > /proc/sysrq-trigger
sleep 10
`;

function findKernel(): string {
  if (process.env.TB_LAVA_KERNEL) return process.env.TB_LAVA_KERNEL;
  const images = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tracebench', 'images');
  const built = existsSync(images)
    ? readdirSync(images)
        .map((d) => join(images, d))
        .filter((d) => existsSync(join(d, 'image.json')) && existsSync(join(d, 'vmlinuz')))
        .sort((a, b) => statSync(join(b, 'image.json')).mtimeMs - statSync(join(a, 'image.json')).mtimeMs)
    : [];
  if (built.length) return join(built[0]!, 'vmlinuz');
  const boot = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).sort() : [];
  if (boot.length) return join('/boot', boot[boot.length - 1]!);
  throw new Error('no kernel: set TB_LAVA_KERNEL, or build a tracebench image');
}

/** A busybox initramfs (cpio newc, gzip) whose /init is INIT. */
function buildInitramfs(dir: string): string {
  const root = join(dir, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  const cpio = execFileSync('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --quiet --owner=0:0'], { cwd: root, maxBuffer: 64 << 20 });
  const out = join(dir, 'initrd.cpio.gz');
  writeFileSync(out, gzipSync(cpio));
  return out;
}

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function jobYaml(o: { mode: 'complete' | 'incomplete'; kernel: string; initrd: string; tags: string[] }): string {
  return `device_type: qemu
job_name: tracebench local-lava smoke (${o.mode})
visibility: public
priority: medium
tags: [${o.tags.join(', ')}]
timeouts:
  job: {minutes: 6}
  action: {minutes: 4}
  connection: {minutes: 3}
metadata:
  tracebench.smoke: ${o.mode}
context:
  arch: amd64
  memory: 512
  extra_options:
  - -smp 1
  - -cpu max
  - -machine q35,accel=tcg
  - -no-reboot
actions:
- deploy:
    to: tmpfs
    timeout: {minutes: 2}
    images:
      kernel:
        url: file://${o.kernel}
        sha256sum: ${sha256(o.kernel)}
        image_arg: -kernel {kernel} -append 'console=ttyS0,115200 tsc=reliable panic=-1 quiet tb.mode=${o.mode}'
      initrd:
        url: file://${o.initrd}
        image_arg: -initrd {initrd}
- boot:
    method: qemu
    media: tmpfs
    timeout: {minutes: 2}
- test:
    timeout: {minutes: 4}
    monitors:
    - name: tracebench
      start: TB-MARK job-start
      end: TB-MARK out-end
      pattern: 'TB-RESULT (?P<test_case_id>[a-z0-9_.-]+) (?P<result>pass|fail) (?P<measurement>[0-9.]+) (?P<units>\\S+)'
`;
}

describe('local LAVA 2023.01 instance', { timeout: 15 * 60_000 }, () => {
  let lava: LocalLava;
  let work: string;
  let kernel: string;
  let initrd: string;
  const fixtures = process.env.TB_LAVA_FIXTURES;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tb-lava-smoke-'));
    // the kernel is copied: the image directory may be replaced while the job runs
    kernel = join(work, 'vmlinuz');
    copyFileSync(findKernel(), kernel);
    initrd = buildInitramfs(work);
    const t = performance.now();
    lava = await startLocalLava();
    console.log(`# local LAVA up in ${((performance.now() - t) / 1000).toFixed(1)} s at ${lava.url} (logs: ${lava.logDir})`);
  });

  after(async () => {
    await lava?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const api = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${lava.url}${path}`, { ...init, headers: { Authorization: `Token ${lava.token}`, 'Content-Type': 'application/json', ...init.headers } });
    const body = await r.text();
    if (r.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${r.status}: ${body.slice(0, 500)}`);
    return body;
  };

  /** Submits, waits for Finished; returns the job JSON, its REST logs and the seconds from submit to Finished. */
  async function runJob(mode: 'complete' | 'incomplete') {
    const definition = jobYaml({ mode, kernel, initrd, tags: lava.tags });
    const file = join(work, `job-${mode}.yaml`);
    writeFileSync(file, definition);
    assert.deepEqual(validateLavaJobs([file]), [{ file, ok: true }], 'our strict validator accepts the job');
    const server = JSON.parse(await api('/api/v0.2/jobs/validate/', { method: 'POST', body: JSON.stringify({ definition, strict: true }) }));
    assert.deepEqual(server, { message: 'Job valid.' }, "the server's strict validation accepts it too");
    const t = performance.now();
    const { job_ids } = JSON.parse(await api('/api/v0.2/jobs/', { method: 'POST', body: JSON.stringify({ definition }) })) as { job_ids: number[] };
    const id = job_ids[0]!;
    const states: string[] = [];
    let job: Record<string, unknown>;
    for (;;) {
      job = JSON.parse(await api(`/api/v0.2/jobs/${id}/`));
      const s = `${job.state}`;
      if (states[states.length - 1] !== s) {
        states.push(s);
        console.log(`# job ${id} (${mode}): ${s} at +${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      if (s === 'Finished') break;
      if (performance.now() - t > 10 * 60_000) throw new Error(`job ${id} not finished after 10 min: ${s}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - t) / 1000;
    const logs = await api(`/api/v0.2/jobs/${id}/logs/`);
    const tests = JSON.parse(await api(`/api/v0.2/jobs/${id}/tests/`)) as { results: Record<string, unknown>[] };
    if (fixtures) {
      mkdirSync(fixtures, { recursive: true });
      writeFileSync(join(fixtures, `smoke-${mode}.log.yaml`), logs);
      // the job's own token (the worker's credential for this job) is a secret, even of a throwaway instance
      writeFileSync(join(fixtures, `smoke-${mode}.job.json`), JSON.stringify({ ...job, token: 'x'.repeat(`${job.token}`.length) }, null, 2) + '\n');
    }
    console.log(`# job ${id} (${mode}): ${job.health} in ${seconds.toFixed(1)} s from submit; log ${logs.length} bytes`);
    return { id, job, logs, tests: tests.results, seconds };
  }

  it('runs a job whose guest prints the end marker: Complete, on the tagged device, with the monitor result', async () => {
    const { job, logs, tests } = await runJob('complete');
    assert.equal(job.health, 'Complete', `failure_comment: ${job.failure_comment}`);
    assert.equal(job.actual_device, lava.device);
    // LAVA strips the escape bytes but not the rest of SeaBIOS's clear-screen sequence, so
    // with `quiet` the start marker shares its console line: "Booting from ROM..c[?7l[2JTB-MARK job-start"
    assert.match(logs, /"lvl": "target", "msg": "[^"]*TB-MARK job-start"/);
    assert.match(logs, /"lvl": "target", "msg": "TB-MARK out-end"/);
    const smoke = tests.find((t) => t.name === 'smoke');
    assert.ok(smoke, `no smoke case in ${JSON.stringify(tests.map((t) => t.name))}`);
    assert.equal(smoke.result, 'pass');
    assert.equal(Number(smoke.measurement), 1);
    assert.equal(smoke.unit, 's');
  });

  it('runs a job whose guest powers off before the end marker: Incomplete', async () => {
    const { job, logs } = await runJob('incomplete');
    assert.equal(job.health, 'Incomplete');
    assert.match(logs, /TB-RESULT smoke pass 1 s/);
    assert.doesNotMatch(logs, /"msg": "TB-MARK out-end"/);
  });
});
