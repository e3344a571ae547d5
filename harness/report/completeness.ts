// Was the run finished? A run killed (SIGKILL, power loss) or interrupted
// (Ctrl-C) and never resumed leaves a manifest without `finishedAt`, and with
// fewer boots than its suite planned; its numbers are partial and every report
// and the published site must say so rather than show it like any other run.
// Derived from the manifest alone, so it needs no new field in old results.
import { z } from 'zod';
import type { Manifest } from '../store/schema.js';

/** The part of manifest.suite.definition (the loaded suite, see cli/bench.ts) that fixes the plan's size. */
const planShape = z.object({
  rounds: z.number().int().positive(),
  kernels: z.array(z.string()).min(1),
  configs: z.array(z.string()).min(1),
  adaptive: z.object({ maxRounds: z.number().int().positive() }).passthrough().optional(),
}).passthrough();

export interface Completeness {
  complete: boolean;
  /** distinct planned boots that produced a boot record (a retried boot counts once) */
  recorded: number;
  /**
   * boots the plan asked for, as far as it is known: rounds x kernels x configs,
   * where an adaptive suite's rounds are those it had reached (it adds rounds one
   * at a time, so a round it began is a round it planned); null when the manifest
   * holds no suite definition (imports, hand-written results)
   */
  planned: number | null;
  /** an adaptive suite may have gone on to up to this many boots */
  plannedMax: number | null;
  /** true when the manifest has no finishedAt: the harness never reached the end of the run */
  unfinished: boolean;
  /** human-readable, e.g. "incomplete: 6 of 8 planned boots (no finish time: ...)"; null when complete */
  label: string | null;
}

/** Boot indices of the plan that have a record; a retried attempt and its retry share one index. */
function recordedBoots(m: Manifest): number {
  return new Set(m.boots.map((b) => b.boot)).size;
}

export function completeness(m: Manifest): Completeness {
  // imported numbers were measured elsewhere: there is no plan to fall short of
  if (m.source === 'import') return { complete: true, recorded: 0, planned: null, plannedMax: null, unfinished: false, label: null };
  const recorded = recordedBoots(m);
  const def = planShape.safeParse(m.suite.definition);
  let planned: number | null = null;
  let plannedMax: number | null = null;
  if (def.success) {
    const perRound = def.data.kernels.length * def.data.configs.length;
    const reached = Math.max(def.data.rounds, ...m.boots.map((b) => b.round));
    planned = reached * perRound;
    if (def.data.adaptive) plannedMax = Math.max(def.data.adaptive.maxRounds, reached) * perRound;
  }
  const unfinished = m.finishedAt === undefined;
  const short = planned !== null && recorded < planned;
  const complete = !unfinished && !short;
  if (complete) return { complete, recorded, planned, plannedMax, unfinished, label: null };
  const of = planned !== null ? `${recorded} of ${planned} planned boots` : `${recorded} boots recorded, plan size unknown`;
  const more = plannedMax !== null && plannedMax > (planned ?? 0) ? `; adaptive: up to ${plannedMax}` : '';
  const why = unfinished ? 'no finish time: interrupted or killed and never resumed, or still running' : 'the run ended before its plan did';
  return { complete, recorded, planned, plannedMax, unfinished, label: `incomplete: ${of}${more} (${why})` };
}
