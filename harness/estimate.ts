// How long will a plan take? From the last measured run of the same suite when
// there is one (per-config boot wall times, which include boot, every workload,
// retries and the tracer's collect), else from the workloads' own durations.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Suite } from './config.js';
import type { Boot } from './plan.js';
import { readManifest } from './store/store.js';
import type { Manifest } from './store/schema.js';

/**
 * Seconds a boot takes outside its workloads, when no run has measured it: the quick
 * suite's boots under TCG on this project's 2-core machine spent 9-25 s there (vanilla
 * to LTTng, mean ~14: README), from QEMU start to the first workload, the tracer's
 * setup, start, stop and collect, and the power-off.
 */
const BOOT_OVERHEAD_S = 15;
/** per-iteration cost of workloads that do not run for a fixed time: measured under TCG (README) */
const UNTIMED_ITERATION_S: Record<string, number> = { kernbench: 60, 'syscall-loop': 5, 'pipe-pingpong': 6 };

function lastRunOf(suiteName: string, resultsRoot: string): Manifest | undefined {
  if (!existsSync(resultsRoot)) return undefined;
  const runs: Manifest[] = [];
  for (const d of readdirSync(resultsRoot)) {
    try {
      const m = readManifest(join(resultsRoot, d));
      if (m.suite.name === suiteName && m.source === 'bench' && m.boots.some((b) => b.status === 'finished')) runs.push(m);
    } catch {
      // not a result directory, or one from another format: not a measurement to learn from
    }
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function guessBootS(boot: Boot): number {
  let s = BOOT_OVERHEAD_S;
  for (const w of boot.workloads) {
    const n = w.warmup + w.iterations;
    const seconds = typeof w.params.seconds === 'number' ? w.params.seconds + 5 : (UNTIMED_ITERATION_S[w.name] ?? 30);
    s += n * seconds;
  }
  return s;
}

function human(s: number): string {
  if (s < 90 * 60) return `${(s / 60).toFixed(0)} min`;
  const h = s / 3600;
  return `${h.toFixed(1)} h${h > 12 ? ' (more than a night: consider fewer rounds or a lab machine)' : ''}`;
}

/** One line for `bench --dry-run`: the expected wall time and where the figure comes from. */
export function estimatePlan(suite: Suite, boots: Boot[], resultsRoot: string): string {
  const last = lastRunOf(suite.name, resultsRoot);
  const finished = last?.boots.filter((b) => b.status === 'finished') ?? [];
  let total = 0;
  for (const b of boots) {
    const same = finished.filter((r) => r.config === b.config.name).map((r) => r.wallS);
    total += same.length ? mean(same) : finished.length ? mean(finished.map((r) => r.wallS)) : guessBootS(b);
  }
  const adaptive = suite.adaptive ? `; adaptive sampling may add rounds up to ${suite.adaptive.maxRounds} (capped at ${suite.adaptive.maxMinutes} min)` : '';
  const source = last
    ? `from ${finished.length} measured boots of run ${last.runId} (${last.accelerator === 'tcg' ? 'TCG, emulated' : last.accelerator})`
    : `from the workloads' durations and a ${BOOT_OVERHEAD_S} s boot overhead (no earlier run of this suite to learn from)`;
  return `estimated wall time: ${human(total)} for ${boots.length} boots, ${source}${adaptive}`;
}
