// What the report says first, as data: the one-line trust banner, the
// seed-shaped answer table, host quietness per boot and the counts of what was
// not used. Pure (summary + result set in, plain objects out) so the banner's
// logic is unit-tested without rendering; html.ts only formats it.
import type { CellSummary, RunSummary } from '../stats/summary.js';
import type { BootRecord, Sample } from '../store/schema.js';
import type { ResultSet } from '../store/store.js';
import { bootQuietness } from '../machines/interference.js';
import { completeness, type Completeness } from './completeness.js';
import { EMULATION_NOTICE, fmtInterval, fmtNum, fmtPct, primaryCells } from './format.js';

export type BannerPart =
  | { kind: 'emulated'; text: string }
  | { kind: 'untrusted'; text: string; reasons: string[] }
  | { kind: 'incomplete'; text: string }
  | { kind: 'trusted'; text: string }
  | { kind: 'imported'; text: string };

export interface Banner {
  /** bad: untrusted or incomplete; warn: emulated; info: imported, nothing could be checked; ok: checked, nothing to warn about */
  level: 'ok' | 'info' | 'warn' | 'bad';
  parts: BannerPart[];
  completeness: Completeness;
}

/** one (boot, workload, iteration) whose every attempt was noisy: no quiet measurement replaced it */
export interface StayedNoisy {
  boot: number;
  config: string;
  workload: string;
  iteration: number;
  reasons: string[];
}

/**
 * Noisy attempts that were never followed by a quiet one. A noisy attempt that
 * was retried quietly cost time, not data; one that stayed noisy left a hole in
 * its cell, and the host that made it noisy was busy around the boot's other
 * iterations too.
 */
export function stayedNoisy(samples: Sample[]): StayedNoisy[] {
  const key = (s: Sample) => `${s.boot}\u0000${s.kernel}\u0000${s.config}\u0000${s.workload}\u0000${s.iteration}`;
  const quiet = new Set(samples.filter((s) => s.status === 'ok').map(key));
  const out = new Map<string, StayedNoisy>();
  for (const s of samples) {
    if (s.status !== 'noisy' || s.warmup || quiet.has(key(s))) continue;
    const k = key(s);
    const prev = out.get(k);
    const reasons = [...new Set([...(prev?.reasons ?? []), ...(s.host?.reasons ?? [])])];
    out.set(k, { boot: s.boot, config: s.config, workload: s.workload, iteration: s.iteration, reasons });
  }
  return [...out.values()];
}

function hostReason(noisy: StayedNoisy[]): string | null {
  if (noisy.length === 0) return null;
  const boots = [...new Set(noisy.map((n) => n.boot))].sort((a, b) => a - b);
  const why = [...new Set(noisy.flatMap((n) => n.reasons))].slice(0, 2);
  return `the host was noisy: ${noisy.length} measured iteration${noisy.length === 1 ? '' : 's'} stayed noisy after retries (boot${boots.length === 1 ? '' : 's'} ${boots.join(', ')}) and ${noisy.length === 1 ? 'was' : 'were'} left out${why.length ? ` — ${why.join('; ')}` : ''}`;
}

export function trustBanner(summary: RunSummary, rs: ResultSet): Banner {
  const c = completeness(rs.manifest);
  const parts: BannerPart[] = [];
  if (summary.emulated) parts.push({ kind: 'emulated', text: [EMULATION_NOTICE, summary.instructionTime].filter(Boolean).join('. ') });
  const reasons = [...summary.trust.reasons];
  const host = hostReason(stayedNoisy(rs.samples));
  if (host) reasons.push(host);
  if (reasons.length > 0) parts.push({ kind: 'untrusted', text: `run cannot be trusted: ${reasons.join('; ')}`, reasons });
  if (c.label) parts.push({ kind: 'incomplete', text: c.label });
  const imported = rs.manifest.source === 'import';
  if (imported) parts.push({ kind: 'imported', text: 'imported numbers, measured elsewhere: no A/A control, host quietness or boot plan to check' });
  else if (reasons.length === 0 && c.complete) parts.push({ kind: 'trusted', text: trustedText(summary, rs, c) });
  const level = parts.some((p) => p.kind === 'untrusted' || p.kind === 'incomplete') ? 'bad' : summary.emulated ? 'warn' : imported ? 'info' : 'ok';
  return { level, parts, completeness: c };
}

/** what was checked and passed: each clause states a fact, none claims more than was measured */
function trustedText(summary: RunSummary, rs: ResultSet, c: Completeness): string {
  const clauses: string[] = [];
  clauses.push(summary.aa.length > 0 ? 'A/A control within chance' : 'no A/A control in this run');
  const measuredHost = rs.manifest.boots.some((b) => b.host !== undefined) || rs.samples.some((s) => s.host !== undefined);
  clauses.push(!measuredHost ? 'host quietness not measured' : summary.noisySamples > 0 ? `host quiet once ${summary.noisySamples} noisy iteration${summary.noisySamples === 1 ? ' was' : 's were'} retried` : 'host quiet');
  clauses.push(c.planned !== null ? `all ${c.planned} planned boots recorded` : `${c.recorded} boots recorded`);
  return `no reason found to distrust this run: ${clauses.join(', ')}`;
}

// ---- the answer table -------------------------------------------------------

export interface AnswerRow {
  kernel: string;
  workload: string;
  metric: string;
  unit: string;
  config: string;
  aaControl: boolean;
  vanilla: string;
  traced: string;
  /** "17.4 % [12.3, 23.3]", or the verdict in words */
  slowdown: string;
  verdict: CellSummary['verdict'];
  traceMBps: string;
}

const VERDICT_WORDS: Record<NonNullable<CellSummary['verdict']>, string> = {
  slower: 'slower',
  'no-difference': 'no difference',
  faster: 'faster',
  'implausible-speedup': 'implausible speed-up',
  'insufficient-data': 'insufficient data',
};

export function verdictWords(v: CellSummary['verdict']): string {
  return v === null ? '' : VERDICT_WORDS[v];
}

function centreOf(c: CellSummary | undefined): string {
  if (!c) return '–';
  if (!Number.isFinite(c.mean)) return 'insufficient data';
  return `${fmtNum(c.mean)} ${c.unit}`;
}

function slowdownText(c: CellSummary): string {
  const why = `insufficient data${c.insufficient ? ` (${c.insufficient})` : ''}`;
  if (!c.vsBaseline || !Number.isFinite(c.vsBaseline.slowdown.point)) return why;
  // one value a side (the seed's own table) still has a point estimate: shown, with no interval
  if (c.verdict === 'insufficient-data') return `${fmtPct(c.vsBaseline.slowdown.point)}, no interval: ${why}`;
  const s = c.vsBaseline.slowdown;
  const point = Number.isFinite(s.point) ? fmtPct(s.point) : '–';
  const body = `${point} ${fmtInterval(s.lo, s.hi)}`;
  return c.verdict === 'implausible-speedup' ? `implausible speed-up: ${body}` : body;
}

/** One row per traced (and A/A) configuration of each workload's primary metric, vanilla beside it. */
export function answerRows(summary: RunSummary): AnswerRow[] {
  const rows: AnswerRow[] = [];
  for (const kernel of summary.kernels) {
    for (const workload of summary.workloads) {
      const cells = primaryCells(summary, kernel, workload);
      const base = cells.find((c) => c.config === summary.baseline);
      for (const c of cells) {
        if (c.config === summary.baseline) continue;
        rows.push({
          kernel, workload, metric: c.metric, unit: c.unit, config: c.config, aaControl: c.aaControl,
          vanilla: centreOf(base), traced: centreOf(c),
          slowdown: c.noBaseline ? 'no vanilla baseline' : slowdownText(c),
          verdict: c.verdict,
          traceMBps: c.trace?.traceMBps != null ? fmtNum(c.trace.traceMBps) : '–',
        });
      }
    }
  }
  return rows;
}

// ---- host quietness and what was not used ----------------------------------

export interface BootHostRow {
  boot: number;
  round: number;
  config: string;
  status: BootRecord['status'];
  attempt: number;
  retried: boolean;
  quietIterations: number | null;
  noisyIterations: number | null;
  minVcpuShare: number | null;
  maxOtherCores: number | null;
}

/**
 * Per boot attempt: the boot record's own host summary when the harness wrote
 * one, else the same figures from its samples' host fields; null when neither
 * was measured (runs from before host interference was recorded).
 */
export function hostPerBoot(rs: ResultSet): BootHostRow[] {
  return rs.manifest.boots.map((b) => {
    const h = b.host ?? bootQuietness(rs.samples.filter((s) => s.boot === b.boot && s.config === b.config)) ?? null;
    return {
      boot: b.boot, round: b.round, config: b.config, status: b.status, attempt: b.attempt ?? 1, retried: b.retried === true,
      quietIterations: h?.quietIterations ?? null, noisyIterations: h?.noisyIterations ?? null,
      minVcpuShare: h?.minVcpuShare ?? null, maxOtherCores: h?.maxOtherCores ?? null,
    };
  });
}


export interface UnusedCounts {
  failedSamples: number;
  noisySamples: number;
  stayedNoisy: number;
  retriedBoots: number;
  /** boot attempts that did not finish (timeout, panic, job failed, refused) */
  failedBoots: number;
  boots: number;
}

export function unusedCounts(summary: RunSummary, rs: ResultSet): UnusedCounts {
  const boots = rs.manifest.boots;
  return {
    failedSamples: summary.failedSamples.length,
    noisySamples: summary.noisySamples,
    stayedNoisy: stayedNoisy(rs.samples).length,
    retriedBoots: boots.filter((b) => b.retried).length,
    failedBoots: boots.filter((b) => b.status !== 'finished').length,
    boots: boots.length,
  };
}

/** "94 %" for a 0..1 share */
export function fmtShare(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(0)} %`;
}
