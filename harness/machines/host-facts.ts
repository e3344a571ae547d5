// The host state that decides whether a benchmark on it is repeatable:
// frequency governor, turbo, SMT, irqbalance, THP, hugepages, microcode,
// mitigations, kernel and cmdline: what mmtests (collect_*_info, cpupower),
// lkp-tests (cpufreq_governor, intel_pstate setups) and the Phoronix Test Suite
// (system notes) record or set. Every configuration of a round must run under
// the same values, so they are read once and kept with the results.
// host-facts.sh reads them (on this host, or on a lab box over ssh); everything
// else here is pure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import { governorPlan, turboPlan } from './tune.js';

/** POSIX sh (busybox too) printing key=value lines; `sh -c SCRIPT sh [ROOT]` reads ROOT instead of /. */
export const HOST_FACTS_SCRIPT: string = readFileSync(join(PROJECT_ROOT, 'harness/machines/host-facts.sh'), 'utf8');

export type Turbo = 'on' | 'off' | 'unknown';
export type Smt = 'on' | 'off' | 'notsupported' | 'unknown';

export interface HostFacts {
  cpuModel: string;
  microcode?: string;
  /** online logical CPUs */
  cores?: number;
  /** their ids, from /sys/devices/system/cpu/online */
  onlineCpus?: number[];
  scalingDriver?: string;
  /** cpu0's governor; absent without cpufreq (most VMs) */
  governor?: string;
  /** every CPU's governor, as read: what tune.ts restores */
  governors?: { cpu: number; governor: string }[];
  governorsUniform?: boolean;
  availableGovernors?: string[];
  /** intel_pstate / amd-pstate energy_performance_preference of cpu0 */
  epp?: string;
  /** intel_pstate/status or amd_pstate/status (active, passive, guided) */
  pstateStatus?: string;
  turbo: Turbo;
  /** the turbo knobs as read ('0' / '1'), for tune.ts */
  knobs: { noTurbo?: string; boost?: string };
  smt: Smt;
  kernel: string;
  cmdline?: string;
  memoryMiB?: number;
  irqbalance: boolean | undefined;
  /** the selected transparent_hugepage mode: always, madvise or never */
  thp?: string;
  hugepages?: { total: number; free: number; sizeKiB: number };
  /** the hypervisor this host runs under; undefined on bare metal */
  virtualized?: string;
  mitigations?: { total: number; affected: number; vulnerable: string[]; off: boolean };
}

function int(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

/** "0-3,8,10-11" (the kernel's cpulist format) -> [0,1,2,3,8,10,11]; undefined when malformed. */
export function parseCpuList(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

function turboOf(k: Record<string, string>): Turbo {
  // intel_pstate's knob is inverted; cpufreq/boost (acpi-cpufreq, amd-pstate) is not
  if (k.no_turbo === '1') return 'off';
  if (k.no_turbo === '0') return 'on';
  const b = k.boost ?? k.policy0_boost;
  if (b === '1') return 'on';
  if (b === '0') return 'off';
  return 'unknown';
}

function smtOf(k: Record<string, string>): Smt {
  const c = k.smt_control;
  if (c === 'notsupported' || c === 'notimplemented') return 'notsupported';
  if (c === 'off' || c === 'forceoff') return 'off';
  // control "on" with no sibling online (smt/active 0) runs one thread per core
  if (k.smt_active === '1') return 'on';
  if (k.smt_active === '0') return 'off';
  return c === 'on' ? 'on' : 'unknown';
}

function virtualizedOf(k: Record<string, string>): string | undefined {
  if (k.hypervisor_type) return k.hypervisor_type;
  if (k.hypervisor_flag !== 'yes') return undefined;
  const dmi = [k.dmi_sys_vendor, k.dmi_product_name].filter(Boolean).join(' ');
  return dmi || 'hypervisor CPU flag';
}

/** The script's output -> HostFacts. Unknown keys are ignored; a missing one is undefined or 'unknown'. */
export function parseHostFacts(text: string): HostFacts {
  const k: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)=(.*)$/.exec(line.replace(/\r$/, ''));
    if (m && !(m[1] in k)) k[m[1]] = m[2];
  }
  const onlineCpus = k.cpus_online === undefined ? undefined : parseCpuList(k.cpus_online);
  const governors = k.governors
    ?.split(',')
    .map((p) => /^(\d+):(.+)$/.exec(p))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ cpu: Number(m[1]), governor: m[2] }))
    .sort((a, b) => a.cpu - b.cpu);
  const memKiB = int(k.mem_total_kib);
  const [hpTotal, hpFree, hpSize] = [int(k.hugepages_total), int(k.hugepages_free), int(k.hugepage_size_kib)];
  const vulnTotal = int(k.vulnerabilities_total);
  return {
    cpuModel: k.cpu_model || 'unknown',
    microcode: k.microcode || undefined,
    cores: onlineCpus?.length ?? int(k.processors),
    onlineCpus,
    scalingDriver: k.scaling_driver || undefined,
    governor: k.governor || undefined,
    governors: governors?.length ? governors : undefined,
    governorsUniform: governors?.length ? governors.every((g) => g.governor === governors[0].governor) : undefined,
    availableGovernors: k.available_governors?.trim().split(/\s+/).filter(Boolean),
    epp: k.epp || undefined,
    pstateStatus: k.intel_pstate ?? k.amd_pstate,
    turbo: turboOf(k),
    knobs: { noTurbo: k.no_turbo, boost: k.boost },
    smt: smtOf(k),
    kernel: k.kernel || 'unknown',
    cmdline: k.cmdline,
    memoryMiB: memKiB === undefined ? undefined : Math.round(memKiB / 1024),
    irqbalance: k.irqbalance === 'yes' ? true : k.irqbalance === 'no' ? false : undefined,
    thp: k.thp === undefined ? undefined : (/\[(\w+)\]/.exec(k.thp)?.[1] ?? k.thp),
    hugepages: hpTotal !== undefined && hpFree !== undefined && hpSize !== undefined ? { total: hpTotal, free: hpFree, sizeKiB: hpSize } : undefined,
    virtualized: virtualizedOf(k),
    mitigations:
      vulnTotal === undefined
        ? undefined
        : {
            total: vulnTotal,
            affected: int(k.vulnerabilities_affected) ?? 0,
            vulnerable: (k.vulnerable ?? '').split(',').filter(Boolean),
            off: /(^|\s)mitigations=off(\s|$)/.test(k.cmdline ?? ''),
          },
  };
}

/** Runs host-facts.sh with sh on this host (`root`: read a fake tree instead of /, for tests). */
export async function localHostFacts(root?: string): Promise<HostFacts> {
  const r = await execa('sh', ['-c', HOST_FACTS_SCRIPT, 'sh', ...(root ? [root] : [])], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) {
    throw new TracebenchError({ message: `reading the host's facts failed (sh exit ${r.exitCode}): ${r.stderr || r.stdout}`, hint: 'is /bin/sh a POSIX shell?', exitCode: ExitCode.host });
  }
  return parseHostFacts(r.stdout);
}

function frequencyText(f: HostFacts): string {
  if (!f.governor) return f.virtualized ? 'no cpufreq in this VM (the hypervisor host sets the clock)' : 'no cpufreq (no scaling driver loaded)';
  const n = f.governors?.length ?? 1;
  const which = f.governorsUniform === false ? `mixed: ${[...new Set(f.governors!.map((g) => g.governor))].join(', ')} across ${n} CPUs` : `${f.governor} on ${n === 1 ? 'cpu0' : `all ${n} CPUs`}`;
  return `${f.scalingDriver ?? 'unknown driver'}${f.pstateStatus ? ` (${f.pstateStatus})` : ''}, governor ${which}${f.epp ? `, EPP ${f.epp}` : ''}`;
}

function turboText(f: HostFacts): string {
  if (f.knobs.noTurbo !== undefined) return `${f.turbo} (intel_pstate/no_turbo=${f.knobs.noTurbo})`;
  if (f.knobs.boost !== undefined) return `${f.turbo} (cpufreq/boost=${f.knobs.boost})`;
  return f.turbo;
}

/** The topics describeHostFacts covers, with the label each line starts with. */
export const FACT_LABELS = {
  cpu: 'cpu',
  machine: 'machine',
  frequency: 'frequency',
  turbo: 'turbo',
  smt: 'SMT',
  irqbalance: 'irqbalance',
  memory: 'memory',
  kernel: 'kernel',
  vulnerabilities: 'CPU vulnerabilities',
  cmdline: 'cmdline',
} as const;
export type FactTopic = keyof typeof FACT_LABELS;

/** One short text per topic, unlabelled: doctor shows them as its own check lines. */
export function hostFactLines(f: HostFacts): { topic: FactTopic; text: string }[] {
  const lines: { topic: FactTopic; text: string }[] = [
    { topic: 'cpu', text: `${f.cpuModel}, ${f.cores ?? '?'} CPUs online${f.microcode ? `, microcode ${f.microcode}` : ''}` },
    { topic: 'machine', text: f.virtualized ? `virtual (${f.virtualized})` : 'bare metal (no hypervisor CPU flag)' },
    { topic: 'frequency', text: frequencyText(f) },
    { topic: 'turbo', text: turboText(f) },
    { topic: 'smt', text: f.smt },
    { topic: 'irqbalance', text: f.irqbalance === undefined ? 'unknown' : f.irqbalance ? 'running' : 'not running' },
    { topic: 'memory', text: `${f.memoryMiB ?? '?'} MiB; THP ${f.thp ?? 'unknown'}${f.hugepages ? `; hugepages ${f.hugepages.free} free of ${f.hugepages.total} × ${f.hugepages.sizeKiB} KiB` : ''}` },
    { topic: 'kernel', text: f.kernel },
  ];
  if (f.mitigations) {
    const m = f.mitigations;
    lines.push({ topic: 'vulnerabilities', text: `affected by ${m.affected} of ${m.total}${m.vulnerable.length ? `, unmitigated: ${m.vulnerable.join(', ')}` : ''}${m.off ? ' (mitigations=off)' : ''}` });
  }
  if (f.cmdline !== undefined) lines.push({ topic: 'cmdline', text: f.cmdline });
  return lines;
}

/** Short human lines for doctor and the report, one topic each ("turbo: on (...)"). */
export function describeHostFacts(f: HostFacts): string[] {
  return hostFactLines(f).map((l) => `${FACT_LABELS[l.topic]}: ${l.text}`);
}

export type MethodologyTopic = 'governor' | 'turbo' | 'irqbalance';

export interface MethodologyFinding {
  topic: MethodologyTopic;
  /** what is wrong, why it matters for a benchmark, and the fix */
  text: string;
}

function turboFix(f: HostFacts): string {
  if (f.knobs.noTurbo !== undefined) return 'write 1 to /sys/devices/system/cpu/intel_pstate/no_turbo';
  if (f.knobs.boost !== undefined) return 'write 0 to /sys/devices/system/cpu/cpufreq/boost';
  return 'write 0 to each /sys/devices/system/cpu/cpufreq/policy*/boost, or switch it off in the firmware setup';
}

/**
 * The host settings that make benchmark results drift, on a bare-metal (or KVM
 * host) machine only: inside a VM these knobs are absent or do not control the
 * physical CPU, so nothing is said there. With `tune`, what tune.ts will set for
 * the run is not warned about.
 */
export function methodologyFindings(f: HostFacts, opts: { tune?: boolean } = {}): MethodologyFinding[] {
  if (f.virtualized) return [];
  const tuned = (t: 'governor' | 'turbo') => opts.tune === true && (t === 'governor' ? governorPlan(f) : turboPlan(f)).apply.length > 0;
  const out: MethodologyFinding[] = [];
  const slow = f.governors?.filter((g) => g.governor !== 'performance') ?? (f.governor && f.governor !== 'performance' ? [{ cpu: 0, governor: f.governor }] : []);
  if (slow.length && !tuned('governor')) {
    const names = [...new Set(slow.map((g) => g.governor))].join(', ');
    out.push({
      topic: 'governor',
      text: `the CPU frequency governor is ${names}, not performance, on ${slow.length} CPU${slow.length === 1 ? '' : 's'}: the clock then follows the load, so the same work takes a different time from run to run, and a tracer's extra work can raise the clock and hide part of its own cost; set scaling_governor to performance on every CPU`,
    });
  }
  if (f.turbo === 'on' && !tuned('turbo')) {
    out.push({
      topic: 'turbo',
      text: `turbo/boost is on: the clock then depends on temperature and on how many cores are busy, so results drift between runs and configurations (the kernel's cpu-freq boost documentation gives reproducible benchmarks as the reason to switch it off); ${turboFix(f)}`,
    });
  }
  if (f.irqbalance === true) {
    out.push({
      topic: 'irqbalance',
      text: 'irqbalance is running: it moves interrupts between CPUs (every 10 s by default), so the CPUs running the guest take a varying share of interrupt work during a measurement; stop it for the run (systemctl stop irqbalance)',
    });
  }
  return out;
}

/** The findings as sentences (doctor, report, manifest notes). */
export function methodologyWarnings(f: HostFacts, opts: { tune?: boolean } = {}): string[] {
  return methodologyFindings(f, opts).map((w) => w.text);
}
