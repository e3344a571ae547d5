// Optional host tuning for a run, as mmtests' `-p/--performance` does
// (force_performance_setup, restored afterwards): every CPU's governor to
// performance and turbo/boost off. Pure: from the facts read before the run,
// the sh lines that apply it and the lines that put back exactly what they
// changed. isolcpus and nohz_full are never touched: they change tick and RCU
// behaviour, the very events the tracers under test record.
import { shellQuote } from '../shell-quote.js';
import type { HostFacts } from './host-facts.js';

export interface TunePlan {
  /** run before the benchmark, in order */
  apply: string[];
  /** run after it (also after a failure), in order: undoes apply in reverse */
  restore: string[];
}

const CPU = '/sys/devices/system/cpu';

function write(value: string, path: string): string {
  return `echo ${shellQuote(value)} > ${shellQuote(path)}`;
}

/** Every CPU whose governor is not performance is set to it; each restored to its own previous governor. */
export function governorPlan(f: HostFacts): TunePlan {
  // a driver without the performance governor (a cpufreq built without it) cannot be tuned
  if (f.availableGovernors && !f.availableGovernors.includes('performance')) return { apply: [], restore: [] };
  const slow = (f.governors ?? []).filter((g) => g.governor !== 'performance');
  const path = (cpu: number) => `${CPU}/cpu${cpu}/cpufreq/scaling_governor`;
  return {
    apply: slow.map((g) => write('performance', path(g.cpu))),
    restore: slow.map((g) => write(g.governor, path(g.cpu))),
  };
}

/** Turbo off by each knob that is present and on: intel_pstate/no_turbo (inverted) and cpufreq/boost. */
export function turboPlan(f: HostFacts): TunePlan {
  const plan: TunePlan = { apply: [], restore: [] };
  if (f.knobs.noTurbo === '0') {
    plan.apply.push(write('1', `${CPU}/intel_pstate/no_turbo`));
    plan.restore.push(write('0', `${CPU}/intel_pstate/no_turbo`));
  }
  if (f.knobs.boost === '1') {
    plan.apply.push(write('0', `${CPU}/cpufreq/boost`));
    plan.restore.push(write('1', `${CPU}/cpufreq/boost`));
  }
  return plan;
}

/** Governor, then turbo; restored in the reverse order. Empty on a host without the knobs (a VM). */
export function tunePlan(f: HostFacts): TunePlan {
  const parts = [governorPlan(f), turboPlan(f)];
  return {
    apply: parts.flatMap((p) => p.apply),
    restore: parts.flatMap((p) => p.restore).reverse(),
  };
}

/**
 * The same tuning inside a kernel under test on a lab box (machine.sh, before the
 * job): kexec starts a kernel with its own cpufreq defaults, so the base OS's
 * settings do not carry over. Nothing to restore: the next boot starts afresh.
 */
export const GUEST_TUNE_LINES = [
  `for g in ${CPU}/cpu[0-9]*/cpufreq/scaling_governor; do [ -w "$g" ] && echo performance > "$g"; done`,
  `[ -w ${CPU}/intel_pstate/no_turbo ] && echo 1 > ${CPU}/intel_pstate/no_turbo`,
  `[ -w ${CPU}/cpufreq/boost ] && echo 0 > ${CPU}/cpufreq/boost`,
  'true',
];
