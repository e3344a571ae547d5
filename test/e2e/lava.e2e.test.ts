// The LAVA backend end to end on a local LAVA 2023.01 instance (test/lava/local-lava.ts:
// PostgreSQL, lava-server, lava-dispatcher from Debian, started without systemd, one
// QEMU device under TCG). `lava jobs` writes a definition per planned boot of the quick
// suite, all strictly valid; `bench --machine lava://…` runs vanilla and ftrace through
// LAVA's REST API, the outputs come back framed on the console, and the same two boots
// on the local QEMU machine give the LAVA overhead per boot.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { bench } from '../../harness/cli/bench.js';
import { ensureImage } from '../../harness/cli/image.js';
import { lavaJobs } from '../../harness/cli/lava.js';
import { loadSuite } from '../../harness/config.js';
import { plan } from '../../harness/plan.js';
import { readResultSet } from '../../harness/store/store.js';
import { startLocalLava, type LocalLava } from '../lava/local-lava.js';
import { validateLavaJobs } from '../lava/validate.js';

const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };

describe('LAVA 2023.01 (local instance, QEMU device under TCG)', { timeout: 60 * 60 * 1000 }, () => {
  let lava: LocalLava;
  const dir = mkdtempSync(join(tmpdir(), 'tb-lava-e2e-'));
  const started = Date.now();

  before(async () => {
    await ensureImage({});
    lava = await startLocalLava();
    console.log(`local LAVA up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${lava.url} (device ${lava.device}, tags ${lava.tags.join(',')})`);
  });
  after(async () => {
    await lava?.stop();
  });

  test('`lava jobs --suite quick` writes exactly one job per planned boot, each valid under LAVA\'s strict schema', async () => {
    const files = await lavaJobs({ suite: 'quick', out: join(dir, 'jobs-quick'), deviceType: 'qemu', noKvm: true });
    assert.equal(files.length, plan(loadSuite('quick')).length);
    assert.equal(readdirSync(join(dir, 'jobs-quick/jobs')).length, files.length);
    assert.deepEqual(validateLavaJobs(files).filter((r) => !r.ok), []);
  });

  test('bench --machine lava://…: vanilla and ftrace run as LAVA jobs; samples, armed sets, job ids, device and worker recorded', async () => {
    const suite = join(dir, 'lava.yaml');
    writeFileSync(
      suite,
      stringify({
        name: 'lava',
        configs: ['vanilla', 'ftrace'],
        rounds: 1,
        order: 'fixed',
        warmup: 0,
        iterations: 1,
        workloads: [{ name: 'dbench', params: { clients: 2, seconds: 3 } }],
        machine: { bootTimeoutS: 600, quiet: FUNCTIONAL_ONLY, scratchGiB: 2 },
      }),
    );
    process.env.TRACEBENCH_LAVA_TOKEN = lava.token;
    const uri = `lava://${lava.url.replace(/^http:\/\//, '')}?device_type=qemu&tags=${lava.tags.join(',')}&kvm=0`;
    const t0 = Date.now();
    const r = await bench({ suite, machine: uri, out: join(dir, 'lava'), reports: join(dir, 'lava-reports'), quiet: !process.env.TRACEBENCH_E2E_VERBOSE });
    const lavaS = (Date.now() - t0) / 1000;
    const rs = readResultSet(r.outDir);
    const m = rs.manifest;
    assert.deepEqual(m.boots.map((b) => [b.config, b.status]), [['vanilla', 'finished'], ['ftrace', 'finished']], m.boots.map((b) => b.message).join('\n'));
    assert.equal(m.accelerator, 'tcg', 'a no_kvm device is emulated, and labelled so');
    for (const b of m.boots) {
      assert.equal(b.device, lava.device);
      assert.equal(b.details!.lavaDevice, lava.device);
      assert.equal(b.details!.lavaWorker, lava.worker);
      assert.ok(Number(b.details!.lavaJob) > 0);
    }
    for (const s of rs.samples) {
      assert.equal(s.status, 'ok', `${s.config}: ${s.error}`);
      assert.ok((s.metrics.find((x) => x.name === 'throughput')?.value ?? 0) > 0);
    }
    const ft = m.tracers.find((x) => x.config === 'ftrace')!;
    assert.equal(ft.verified, true, 'the armed set, checked when the outputs came back');
    assert.deepEqual(ft.armed, ft.pinned);
    assert.ok(rs.samples.find((s) => s.config === 'ftrace')!.trace!.events > 0);

    // the same two boots on this host's QEMU: what LAVA adds per boot
    const t1 = Date.now();
    const q = await bench({ suite, out: join(dir, 'qemu'), reports: join(dir, 'qemu-reports'), quiet: true });
    const qemuS = (Date.now() - t1) / 1000;
    assert.ok(q.manifest.boots.every((b) => b.status === 'finished'));
    const per = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(
      `LAVA e2e (EMULATED, TCG, 2 boots of 3 s dbench): LAVA ${lavaS.toFixed(0)} s (per boot ${per(m.boots.map((b) => b.wallS))} s; queued ${m.boots.map((b) => b.details!.queuedS).join(', ')} s; LAVA job run ${m.boots.map((b) => b.details!.lavaRunS).join(', ')} s), ` +
        `local QEMU ${qemuS.toFixed(0)} s (per boot ${per(q.manifest.boots.map((b) => b.wallS))} s): ${((lavaS - qemuS) / 2).toFixed(1)} s of LAVA overhead per boot`,
    );
  });
});
