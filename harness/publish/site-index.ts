// site.json: what the published site knows about every run it has ever shown.
// It is the memory that makes publishing incremental: a run whose result
// directory was pruned keeps its row, its trend points and its report page.
import { z } from 'zod';
import { ExitCode, TracebenchError } from '../errors.js';

export const SITE_INDEX_FILE = 'site.json';
export const SITE_FORMAT_VERSION = 1;

const trendCellSchema = z.object({
  kernel: z.string(),
  config: z.string(),
  workload: z.string(),
  metric: z.string(),
  slowdown: z.number(),
  lo: z.number().nullable(),
  hi: z.number().nullable(),
});

const comparisonSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('compared'),
    against: z.string(),
    kind: z.enum(['baseline', 'previous']),
    regressions: z.number().int(),
    improvements: z.number().int(),
    /** cells judged regressions, "kernel/config/workload/metric" */
    regressed: z.array(z.string()),
    /** relative path of the comparison page */
    page: z.string(),
  }),
  z.object({
    status: z.literal('not-comparable'),
    against: z.string(),
    kind: z.enum(['baseline', 'previous']),
    reason: z.string(),
    page: z.string(),
  }),
  z.object({ status: z.literal('first-run') }),
]);

export const siteRunSchema = z.object({
  runId: z.string(),
  /** changes when the run's manifest or samples change (a resumed run): its pages are rebuilt */
  fingerprint: z.string(),
  startedAt: z.string(),
  suite: z.string(),
  source: z.string(),
  accelerator: z.string(),
  toolVersion: z.string(),
  kernels: z.array(z.object({ name: z.string(), release: z.string().optional(), identity: z.string().optional() })),
  tracers: z.array(z.object({ config: z.string(), tracer: z.string(), version: z.string() })),
  samples: z.number().int(),
  /**
   * "incomplete: 6 of 12 planned boots (...)" for a run killed or interrupted and
   * never resumed, null for a complete one; absent in entries written before
   * runs were checked, which are rebuilt while their results still exist
   */
  incomplete: z.string().nullable().optional(),
  /** relative path of the run's report, null when the report could not be made */
  report: z.string().nullable(),
  comparison: comparisonSchema,
  trend: z.array(trendCellSchema),
});

export const siteIndexSchema = z.object({
  formatVersion: z.literal(SITE_FORMAT_VERSION),
  generatedAt: z.string(),
  baseline: z.string().nullable(),
  runs: z.array(siteRunSchema),
});

export type SiteRun = z.infer<typeof siteRunSchema>;
export type SiteIndex = z.infer<typeof siteIndexSchema>;
export type SiteComparison = z.infer<typeof comparisonSchema>;
export type TrendCell = z.infer<typeof trendCellSchema>;

/**
 * Parse the previous site.json (null: none yet). An unreadable one is an error,
 * not a fresh start: silently starting over would drop every run whose result
 * directory has since been pruned from the index.
 */
export function parseSiteIndex(text: string | null, origin: string): SiteIndex | null {
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TracebenchError({ message: `${origin}: not valid JSON`, hint: `move ${origin} away to rebuild the index from the results folder`, exitCode: ExitCode.usage, cause });
  }
  const r = siteIndexSchema.safeParse(json);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new TracebenchError({ message: `${origin}: ${why}`, hint: `move ${origin} away to rebuild the index from the results folder`, exitCode: ExitCode.usage });
  }
  return r.data;
}
