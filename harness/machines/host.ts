// Host-side facts and small host processes: QEMU version, scratch disks, the
// KVM probe (by booting, because /dev/kvm can exist and still fail to run a kernel).
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import { cacheRoot } from '../image/build.js';
import { QemuMachine } from './qemu.js';
import { QemuStartError } from './qemu-start.js';

export async function qemuVersion(): Promise<string | undefined> {
  return versionOf('qemu-system-x86_64');
}

/** first line of `<bin> --version`, or undefined when it is not installed */
async function versionOf(bin: string): Promise<string | undefined> {
  const r = await execa(bin, ['--version'], { reject: false });
  return r.exitCode === 0 ? String(r.stdout).split('\n')[0] : undefined;
}

export async function hostInfo() {
  return {
    hostname: hostname(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    qemuVersion: await qemuVersion(),
    // counts LTTng traces on the host (harness/tracers/lttng countOnHost)
    babeltrace2Version: await versionOf('babeltrace2'),
  };
}

export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  reason: string;
}

/**
 * Boot the image once under KVM with an empty job. Only a guest that reaches its
 * job and powers off cleanly proves KVM works; anything else falls back to TCG.
 */
export async function probeKvm(image: { kernel: string; initrd: string; root: string }, workDir: string): Promise<AccelChoice> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  const share = join(workDir, 'kvm-probe');
  rmSync(share, { recursive: true, force: true });
  mkdirSync(join(share, 'out'), { recursive: true });
  writeFileSync(join(share, 'job.sh'), 'echo "TB-MARK job-end" > /dev/console\nexit 0\n');
  let result;
  try {
    result = await new QemuMachine({ accel: 'kvm', scratchDir: workDir }).boot({
      name: 'tracebench-kvm-probe',
      image,
      extraCmdline: [],
      cpus: 1,
      memoryMiB: 1024,
      scratchGiB: 0,
      jobDir: share,
      // a KVM boot takes a few seconds; much longer means it is not really working
      timeoutS: 90,
    });
  } catch (e) {
    // QEMU refusing KVM (or a KVM-only option such as -cpu host) is what the probe is
    // for: fall back. No binary or no image would fail under TCG too: exit 3 stands.
    if (e instanceof QemuStartError && !['binary-missing', 'not-executable', 'cannot-open'].includes(e.reason)) return { accel: 'tcg', reason: `/dev/kvm exists but QEMU could not use it (${e.qemuOutput.split('\n')[0] || e.message})` };
    throw e;
  }
  if (result.status === 'finished') return { accel: 'kvm', reason: `KVM booted the guest in ${result.wallS.toFixed(1)} s` };
  const why = result.message ?? result.status;
  return { accel: 'tcg', reason: `/dev/kvm exists but could not boot the kernel (${why.split('\n')[0]})` };
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The probe's answer depends on the host kernel, /dev/kvm, QEMU and the guest
 * kernel, not on the run: a TCG-only host would otherwise spend up to 90 s of
 * every run re-learning that KVM does not work. Cached per that identity for a
 * day (a host may be reconfigured); `--accel auto` reuses it and says so.
 */
/** `qemu`: the version line hostInfo already read, so QEMU is not asked twice per run */
export async function probeKvmCached(image: { kernel: string; initrd: string; root: string }, workDir: string, qemu: string | undefined, maxAgeH = 24): Promise<AccelChoice> {
  const devKvm = existsSync('/dev/kvm') ? `kvm@${statSync('/dev/kvm').rdev}` : 'no-kvm';
  const identity = [release(), devKvm, qemu ?? 'no-qemu', image.kernel, existsSync(image.kernel) ? statSync(image.kernel).size : 0].join(' | ');
  const file = join(cacheRoot(), 'kvm-probe.json');
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { identity: string; at: string; choice: AccelChoice };
    if (c.identity === identity && Date.now() - Date.parse(c.at) < maxAgeH * 3600_000) {
      return { accel: c.choice.accel, reason: `${c.choice.reason} (probed ${c.at}, cached in ${file})` };
    }
  } catch {
    // no cache, or one from another format: probe
  }
  const choice = await probeKvm(image, workDir);
  mkdirSync(cacheRoot(), { recursive: true });
  writeFileSync(file, JSON.stringify({ identity, at: new Date().toISOString(), choice }, null, 2));
  return choice;
}
