// The bare-metal backend end to end on a QEMU lab box (test/labbox): a VM whose
// base OS has sshd and kexec-tools, reached on 127.0.0.1, whose "power button"
// is the QEMU monitor. `bench --machine ssh://...` kexecs the image's kernel
// for each configuration, the kernel under test reboots back to the base OS,
// and the outputs come back over ssh. A second run makes a boot hang: the power
// command resets the box, the boot is a `timeout`, the next boot finishes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { bench } from '../../harness/cli/bench.js';
import { ensureImage } from '../../harness/cli/image.js';
import { TCG_SINGLE_CMDLINE } from '../../harness/machines/qemu-args.js';
import { readResultSet } from '../../harness/store/store.js';
import { sshArgs, startLabBox, type LabBox } from '../labbox/labbox.js';

const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };
const dbench = { name: 'dbench', params: { clients: 2, seconds: 3 } };

describe('lab box over ssh + kexec (QEMU lab box, TCG)', { timeout: 60 * 60 * 1000 }, () => {
  let box: LabBox;
  // short: the QEMU monitor socket lives in it (unix socket paths are limited to 107 bytes)
  const dir = mkdtempSync('/tmp/tblab-');
  const uri = () => `ssh://root@127.0.0.1:${box.port}`;
  const suite = (name: string, configs: string[], extra: Record<string, unknown> = {}, bootTimeoutS = 600) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      stringify({
        name,
        configs,
        rounds: 1,
        order: 'fixed',
        warmup: 0,
        iterations: 1,
        workloads: [dbench],
        machine: {
          bootTimeoutS,
          quiet: FUNCTIONAL_ONLY,
          scratchGiB: 2,
          // the box's scratch disk is blank until the first boot formats it: named by path.
          // The box is single-threaded TCG: its kernels get the command line a local TCG guest gets (qemu-args.ts TCG_SINGLE_CMDLINE)
          lab: { power: box.powerCommand, console: box.console, identity: box.identity, hostKeyCheck: 'off', scratch: box.disks.scratch, returnTimeoutS: 240, cmdline: [...TCG_SINGLE_CMDLINE] },
        },
        ...extra,
      }),
    );
    return file;
  };
  const onBox = (cmd: string) => execFileSync('ssh', [...sshArgs(box), cmd], { encoding: 'utf8' }).trim();

  before(async () => {
    const image = await ensureImage({});
    box = await startLabBox({ image, dir, scratchGiB: 2 });
  });
  after(async () => {
    await box?.stop();
  });

  test('vanilla, ftrace and ktrace: samples parsed, armed sets verified, a new boot_id per boot, back in the base OS', async () => {
    const started = Date.now();
    const r = await bench({ suite: suite('lab', ['vanilla', 'ftrace', 'ktrace']), machine: uri(), out: join(dir, 'lab'), reports: join(dir, 'lab-reports'), quiet: !process.env.TRACEBENCH_E2E_VERBOSE });
    const rs = readResultSet(r.outDir);
    const m = rs.manifest;
    assert.deepEqual(m.boots.map((b) => [b.config, b.status]), [['vanilla', 'finished'], ['ftrace', 'finished'], ['ktrace', 'finished']], m.boots.map((b) => b.message).join('\n'));
    for (const s of rs.samples) {
      assert.equal(s.status, 'ok', `${s.config}: ${s.error}`);
      assert.ok((s.metrics.find((x) => x.name === 'throughput')?.value ?? 0) > 0);
    }
    for (const c of ['ftrace', 'ktrace']) {
      const t = m.tracers.find((x) => x.config === c)!;
      assert.equal(t.verified, true, `${c} armed set verified through the relay`);
      assert.deepEqual(t.armed, t.pinned);
      assert.ok(rs.samples.find((s) => s.config === c)!.trace!.events > 0);
    }
    // every boot left the base OS and came back to a new one
    assert.ok(m.boots.every((b) => b.details!.baseBootId !== b.details!.returnedBootId));
    for (let i = 1; i < m.boots.length; i++) assert.equal(m.boots[i].details!.baseBootId, m.boots[i - 1].details!.returnedBootId, 'each boot starts from the base OS the previous one returned to');
    assert.equal((m.machine as { uri: string }).uri, uri());
    assert.match(m.accelerator, /^lab \(virtualized/);
    type Facts = { cpuModel?: string; baseKernel?: string; cmdline?: string; memoryMiB?: number; underTest?: { cmdline?: string } };
    assert.ok(m.boots.every((b) => { const f = b.facts as Facts; return f.cpuModel && f.baseKernel && f.cmdline && f.memoryMiB; }), 'the base OS facts per boot');
    assert.ok(m.boots.every((b) => /tb\.end=reboot/.test((b.facts as Facts).underTest?.cmdline ?? '')), 'and the kernel under test\'s own');
    assert.match(m.kernels[0].cmdline ?? '', /tb\.end=reboot/);
    // the box is in its base OS again
    assert.doesNotMatch(onBox('cat /proc/cmdline'), /tb-init/);
    const wall = m.boots.map((b) => b.wallS);
    console.log(`lab e2e (EMULATED lab box, TCG): ${((Date.now() - started) / 1000).toFixed(0)} s for ${m.boots.length} boots; per boot ${wall.map((w) => w.toFixed(0)).join(', ')} s; kexec -l ${m.boots.map((b) => b.details!.kexecLoadS).join(', ')} s; kexec to base OS ${m.boots.map((b) => b.details!.kexecToReturnS).join(', ')} s`);
  });

  test('a hung kernel under test: the power command resets the box, the boot is a timeout, the next boot finishes', async () => {
    const faults = [{ kind: 'hang', boot: 1, attempt: 1, workload: 'dbench', iteration: 1 }];
    const r = await bench({ suite: suite('hang', ['vanilla', 'vanilla-aa'], { faults }, 150), machine: uri(), out: join(dir, 'hang'), reports: join(dir, 'hang-reports'), quiet: !process.env.TRACEBENCH_E2E_VERBOSE }).catch((e) => e);
    const rs = readResultSet(join(dir, 'hang'));
    const [hung, next] = rs.manifest.boots;
    assert.ok(hung && next, `two boots recorded; bench said: ${r instanceof Error ? r.stack : 'ok'}`);
    assert.equal(hung.status, 'timeout', hung.message);
    assert.match(hung.message ?? '', /reset with the power command/);
    assert.ok(hung.details!.powerCycledAtS, 'the power command ran');
    assert.match(readFileSync(join(rs.dir, hung.console), 'utf8'), /TB-MARK fault hang/);
    assert.equal(next.status, 'finished', next.message);
    assert.equal(rs.samples.find((s) => s.boot === 2)!.status, 'ok');
    assert.ok(!(r instanceof Error) || /did not finish cleanly/.test(String(r)));
    assert.doesNotMatch(onBox('cat /proc/cmdline'), /tb-init/);
  });
});
