// Host-side interference: did the guest get the CPU it wanted while a workload
// ran, and who else used the host? Read from /proc on the machine that runs the
// guest, never from the guest (a guest cannot see time it was not given).
//
// - vCPU share: /proc/<qemu>/task/<tid>/schedstat gives, per thread, nanoseconds
//   on a CPU and nanoseconds runnable but waiting on a run queue
//   (Documentation/scheduler/sched-stats.rst). A vCPU thread that wanted to run
//   and waited lost exactly that time to someone else; an idle guest makes its
//   vCPU threads sleep, which is neither. share = on-CPU / (on-CPU + waiting).
// - other cores: non-idle host CPU time from /proc/stat minus what QEMU and this
//   harness used, per wall second: the CPU other processes took.
// - steal and iowait: /proc/stat fractions of all host CPU time (steal is CPU the
//   hypervisor under this host gave to someone else).
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { BootRecord, HostInterference, Sample } from '../store/schema.js';

/**
 * Thresholds of a quiet iteration, calibrated on this project's 2-core host under
 * TCG with a 2-vCPU guest (docs/interference.md has the table): on a quiet host the
 * vCPU threads got 93–98 % of the time they were runnable (dbench's I/O keeps
 * QEMU's own I/O thread busy and it competes with them: 93–95 %; the syscall loop
 * and tbench 96–98 %) while everything else used 0.00–0.05 cores. With a busy
 * process beside the guest the share fell to 54–69 % and other processes used
 * 0.5–1.0 cores, and throughput halved. 0.85 and 0.1 sit between, with margin for
 * the I/O thread on a quiet host.
 */
export const QUIET = { minVcpuShare: 0.85, maxOtherCores: 0.1, maxStealFrac: 0.05 } as const;
export type QuietThresholds = { minVcpuShare: number; maxOtherCores: number; maxStealFrac?: number };

/** USER_HZ: the unit of /proc/stat and /proc/<pid>/stat times on every Linux architecture we run on */
const CLK_TCK = 100;

interface ThreadTimes {
  comm: string;
  onCpuNs: number;
  waitNs: number;
}

export interface CpuSnapshot {
  atMs: number;
  /** /proc/stat "cpu" line, in ticks */
  stat: { busy: number; total: number; iowait: number; steal: number };
  /** threads of the watched process, by tid */
  threads: Map<string, ThreadTimes>;
  /** every process's utime+stime in ticks, by pid, with its name */
  procs: Map<string, { comm: string; ticks: number }>;
}

const readIf = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined; // a process or thread that exited between readdir and read
  }
};

/** /proc/<pid>/stat: the comm field may hold spaces and parentheses, so split after the last ')' */
export function parsePidStat(text: string): { comm: string; ticks: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // after comm: state(0) ppid(1) ... utime(11) stime(12)
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { comm: text.slice(open + 1, close), ticks: utime + stime };
}

/** The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal ... */
export function parseProcStat(text: string): CpuSnapshot['stat'] {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  // guest/guest_nice are already inside user/nice: not added again. Steal is time
  // this host's CPUs did not run at all: reported on its own, never as "busy".
  // irq/softirq time belongs to no process and mostly serves the guest's own disk
  // I/O (dbench on the scratch disk showed 0.1-0.25 cores of it on a quiet host):
  // "other processes" counts process time only
  const total = user + nice + system + idle + iowait + irq + softirq + (steal ?? 0);
  return { busy: user + nice + system, total, iowait, steal: steal ?? 0 };
}

export function snapshot(watchedPid: number | undefined, proc = '/proc'): CpuSnapshot {
  const threads = new Map<string, ThreadTimes>();
  if (watchedPid !== undefined) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`${proc}/${watchedPid}/task`);
    } catch {
      tids = [];
    }
    for (const tid of tids) {
      const ss = readIf(`${proc}/${watchedPid}/task/${tid}/schedstat`);
      const comm = readIf(`${proc}/${watchedPid}/task/${tid}/comm`);
      if (!ss || comm === undefined) continue;
      const [onCpuNs, waitNs] = ss.trim().split(/\s+/).map(Number);
      threads.set(tid, { comm: comm.trim(), onCpuNs, waitNs });
    }
  }
  const procs = new Map<string, { comm: string; ticks: number }>();
  for (const pid of readdirSync(proc)) {
    if (!/^\d+$/.test(pid)) continue;
    const st = readIf(`${proc}/${pid}/stat`);
    const parsed = st ? parsePidStat(st) : undefined;
    if (parsed) procs.set(pid, parsed);
  }
  return { atMs: Date.now(), stat: parseProcStat(readFileSync(`${proc}/stat`, 'utf8')), threads, procs };
}

/**
 * QEMU names vCPU threads "CPU <n>/TCG" or "CPU <n>/KVM" when started with -name ...,debug-threads=on;
 * single-threaded TCG (-accel tcg,thread=single) runs every vCPU on one thread, "ALL CPUs/TCG"
 */
const VCPU_THREAD = /^(CPU \d+|ALL CPUs)\//;

export interface InterferenceInput {
  before: CpuSnapshot;
  after: CpuSnapshot;
  /** the guest's process (QEMU); its CPU is not interference */
  guestPid?: number;
  /** processes whose CPU is part of the measurement apparatus (this harness) */
  ownPids?: number[];
  thresholds?: QuietThresholds;
  load1?: number;
}

/** Pure: two snapshots -> the interference record of the interval between them. */
export function interference(i: InterferenceInput): HostInterference {
  const th = { ...QUIET, ...(i.thresholds ?? {}) };
  const wallS = Math.max(1e-3, (i.after.atMs - i.before.atMs) / 1000);
  const delta = (a: number, b: number) => Math.max(0, a - b);
  // threads of the guest: vCPU threads where QEMU named them, else every thread
  const tids = [...i.after.threads.keys()].filter((t) => i.before.threads.has(t));
  const named = tids.filter((t) => VCPU_THREAD.test(i.after.threads.get(t)!.comm));
  const vcpuTids = named.length ? named : tids;
  let qemuNs = 0;
  for (const t of tids) qemuNs += delta(i.after.threads.get(t)!.onCpuNs, i.before.threads.get(t)!.onCpuNs);
  let onNs = 0, waitNs = 0;
  const vcpuCpuS: number[] = [];
  for (const t of vcpuTids) {
    const on = delta(i.after.threads.get(t)!.onCpuNs, i.before.threads.get(t)!.onCpuNs);
    onNs += on;
    waitNs += delta(i.after.threads.get(t)!.waitNs, i.before.threads.get(t)!.waitNs);
    vcpuCpuS.push(on / 1e9);
  }
  const vcpuShare = onNs + waitNs > 0 ? onNs / (onNs + waitNs) : null;
  // per-process ticks: the heaviest others, and our own apparatus to subtract
  const skip = new Set([String(i.guestPid ?? ''), ...(i.ownPids ?? []).map(String)]);
  const others: { name: string; cores: number }[] = [];
  let ownTicks = 0;
  for (const [pid, p] of i.after.procs) {
    const b = i.before.procs.get(pid);
    // a process that started inside the interval: all its ticks belong to it
    const ticks = delta(p.ticks, b?.ticks ?? 0);
    if (skip.has(pid)) {
      if (pid !== String(i.guestPid ?? '')) ownTicks += ticks;
      continue;
    }
    if (ticks > 0) others.push({ name: `${p.comm} (${pid})`, cores: ticks / CLK_TCK / wallS });
  }
  others.sort((a, b) => b.cores - a.cores);
  const statTotal = delta(i.after.stat.total, i.before.stat.total);
  const busyS = delta(i.after.stat.busy, i.before.stat.busy) / CLK_TCK;
  const otherCores = Math.max(0, busyS - qemuNs / 1e9 - ownTicks / CLK_TCK) / wallS;
  const stealFrac = statTotal > 0 ? delta(i.after.stat.steal, i.before.stat.steal) / statTotal : 0;
  const iowaitFrac = statTotal > 0 ? delta(i.after.stat.iowait, i.before.stat.iowait) / statTotal : 0;
  const reasons: string[] = [];
  if (vcpuShare !== null && vcpuShare < th.minVcpuShare) {
    reasons.push(`vCPUs got ${(100 * vcpuShare).toFixed(0)} % of the CPU time they were ready to use (< ${(100 * th.minVcpuShare).toFixed(0)} %)`);
  }
  if (otherCores > th.maxOtherCores) {
    const named = others.reduce((a, o) => a + o.cores, 0);
    // short-lived processes (a compiler, a test runner's children) may have exited before the end snapshot
    const gone = named < otherCores / 2 ? '; most of it by processes that exited during the iteration' : '';
    const top = others.slice(0, 3).map((o) => `${o.name} ${o.cores.toFixed(2)}`).join(', ');
    reasons.push(`other processes used ${otherCores.toFixed(2)} cores (> ${th.maxOtherCores}): ${top || 'none still running'}${gone}`);
  }
  if (th.maxStealFrac !== undefined && stealFrac > th.maxStealFrac) {
    reasons.push(`steal ${(100 * stealFrac).toFixed(1)} % of host CPU time (> ${(100 * th.maxStealFrac).toFixed(0)} %)`);
  }
  return {
    wallS,
    qemuCpuS: qemuNs / 1e9,
    vcpuCpuS: named.length ? vcpuCpuS : undefined,
    vcpuShare,
    otherCores,
    stealFrac,
    iowaitFrac,
    load1: i.load1 ?? loadavg()[0],
    quiet: reasons.length === 0,
    reasons,
    top: others.slice(0, 5).map((o) => `${o.name} ${o.cores.toFixed(2)} cores`),
    thresholds: { minVcpuShare: th.minVcpuShare, maxOtherCores: th.maxOtherCores },
  };
}

/**
 * Before a run: is the host already busy? Samples for `ms` and names the heaviest
 * processes. Busy = other processes use more than the quiet threshold, scaled to
 * the host (on a 2-core host running a 2-vCPU guest any other work competes).
 */
/** What a machine backend hands the run so it can measure interference at the guest's marks. */
export interface HostSampler {
  /** counters now; the guest's own process is watched when the backend has one */
  snapshot(): CpuSnapshot;
  guestPid?: number;
}

export async function hostLoadNow(ms = 1500, ownPids: number[] = [process.pid]): Promise<{ busyCores: number; top: string[]; cores: number }> {
  const before = snapshot(undefined);
  await new Promise((r) => setTimeout(r, ms));
  const after = snapshot(undefined);
  const r = interference({ before, after, ownPids });
  return { busyCores: r.otherCores, top: r.top ?? [], cores: cpus().length };
}

/** A boot's quietness over its measured tries (warm-ups excluded), for the boot record and the report. */
export function bootQuietness(samples: Sample[]): BootRecord['host'] {
  const measured = samples.filter((s) => !s.warmup && s.host);
  if (!measured.length) return undefined;
  const shares = measured.map((s) => s.host!.vcpuShare).filter((x): x is number => x !== null);
  return {
    quietIterations: measured.filter((s) => s.host!.quiet).length,
    noisyIterations: measured.filter((s) => !s.host!.quiet).length,
    minVcpuShare: shares.length ? Math.min(...shares) : null,
    maxOtherCores: Math.max(...measured.map((s) => s.host!.otherCores)),
  };
}
