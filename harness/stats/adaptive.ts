// Adaptive sampling: after each interleaving round, `bench` asks whether one
// more round is worth running. The caps are hard: runaway run counts are the
// complaint users of other harnesses make most (issue 6), so a cell that still
// wants data past a cap is reported with the cap as its reason, not run.
import type { RunSummary } from './summary.js';

export type StopReason = 'ci-narrow-enough' | 'max-rounds' | 'time-budget' | 'needs-more' | 'no-baseline';

export interface AdaptiveOptions {
  /** wanted half-width of the slowdown interval, as a fraction (0.02 = ±2 percentage points) */
  targetHalfWidth: number;
  maxRounds: number;
  maxSeconds: number;
  roundsDone: number;
  elapsedS: number;
}

export interface AdaptiveDecision {
  more: boolean;
  cells: { key: string; reason: StopReason }[];
}

/**
 * Only primary-metric cells of traced configs are judged: those are the
 * slowdowns the report leads with. A cell without an interval (n < 2) needs
 * more. Another round is allowed only if it fits: rounds < maxRounds and the
 * mean round time so far, added to elapsedS, stays within maxSeconds (one round
 * is the unit of work, so the budget must hold for the round about to start).
 */
export function adaptiveDecision(summary: RunSummary, opts: AdaptiveOptions): AdaptiveDecision {
  const perRoundS = opts.roundsDone > 0 ? opts.elapsedS / opts.roundsDone : 0;
  const roundsCapped = opts.roundsDone >= opts.maxRounds;
  const timeCapped = opts.elapsedS + perRoundS > opts.maxSeconds;
  const cells = summary.cells
    .filter((c) => c.primary && c.config !== summary.baseline)
    .map((c): { key: string; reason: StopReason } => {
      if (c.noBaseline || !c.vsBaseline) return { key: c.key, reason: 'no-baseline' };
      const { lo, hi } = c.vsBaseline.slowdown;
      if (lo !== null && hi !== null && (hi - lo) / 2 <= opts.targetHalfWidth) return { key: c.key, reason: 'ci-narrow-enough' };
      if (roundsCapped) return { key: c.key, reason: 'max-rounds' };
      if (timeCapped) return { key: c.key, reason: 'time-budget' };
      return { key: c.key, reason: 'needs-more' };
    });
  return { more: cells.some((c) => c.reason === 'needs-more'), cells };
}
