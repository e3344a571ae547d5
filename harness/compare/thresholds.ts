// Regression thresholds (configs/thresholds.yaml): percentage points of slowdown
// per metric id `<workload>.<metric>`. Parsing is pure; the CLI reads the file.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ExitCode, TracebenchError } from '../errors.js';

const metricId = z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'metric ids are <workload>.<metric>');
const pp = z.number().finite().nonnegative();

export const thresholdsSchema = z
  .object({
    /** threshold for every metric of a workload the file does not list */
    default: pp,
    metrics: z.record(metricId, pp).default({}),
    minSamples: z.number().int().min(2).default(3),
  })
  .strict();

export type Thresholds = z.infer<typeof thresholdsSchema>;

/** Used when no thresholds file is given; mirrors configs/thresholds.yaml (reasons there). */
export const defaultThresholds: Thresholds = {
  default: 5,
  metrics: {
    'dbench.throughput': 3,
    'tbench.throughput': 3,
    'kernbench.elapsed': 2,
    'syscall-loop.nsPerCall': 10,
  },
  minSamples: 3,
};

export function parseThresholds(text: string, origin: string): Thresholds {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new TracebenchError({ message: `${origin}: not valid YAML: ${(cause as Error).message}`, exitCode: ExitCode.usage, cause });
  }
  const r = thresholdsSchema.safeParse(doc);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${origin}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TracebenchError({
      message: lines.join('\n'),
      hint: 'see configs/thresholds.yaml for the format',
      exitCode: ExitCode.usage,
    });
  }
  return r.data;
}

export interface MetricGate {
  /** percentage points the slowdown difference must exceed */
  thresholdPp: number;
  /** whether a regression of this metric fails the comparison */
  gated: boolean;
}

/**
 * Listed metrics gate at their threshold. A workload the file does not mention
 * at all gates every metric at `default`, so a newly added workload is never
 * silently unguarded. Unlisted metrics of a listed workload are informational.
 */
export function gateFor(t: Thresholds, workload: string, metric: string): MetricGate {
  const id = `${workload}.${metric}`;
  if (id in t.metrics) return { thresholdPp: t.metrics[id]!, gated: true };
  const listed = Object.keys(t.metrics).some((k) => k.startsWith(`${workload}.`));
  return { thresholdPp: t.default, gated: !listed };
}
