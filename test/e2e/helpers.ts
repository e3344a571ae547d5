// Runs a small suite through the real pipeline (image, QEMU, guest, parsers,
// store, report) for end-to-end tests. The image is built once and cached.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bench, type BenchResult } from '../../harness/cli/bench.js';
import { readResultSet, type ResultSet } from '../../harness/store/store.js';

export interface E2EWorkload {
  name: string;
  params?: Record<string, unknown>;
  iterations?: number;
  warmup?: number;
}

export interface E2EOptions {
  name: string;
  configs: string[];
  workloads: E2EWorkload[];
  rounds?: number;
  bootTimeoutS?: number;
  /**
   * host-interference thresholds. These tests check function, not noise, and share a
   * busy machine with other tests: by default no try is judged noisy or repeated.
   * interference.e2e.test.ts passes the product's defaults.
   */
  quiet?: { minVcpuShare?: number; maxOtherCores?: number; maxStealFrac?: number; retries?: number };
  order?: 'random' | 'fixed';
  /** told the result directory before the first boot (for tests that act on the host mid-run) */
  onResultsDir?: (dir: string) => void;
}

const FUNCTIONAL_ONLY = { minVcpuShare: 0, maxOtherCores: 1024, maxStealFrac: 1, retries: 0 };

export interface E2EResult extends ResultSet {
  bench: BenchResult;
}

/** Boot each config once (per round) with the given workloads; returns the stored result set. */
export async function runE2E(o: E2EOptions): Promise<E2EResult> {
  const dir = mkdtempSync(join(tmpdir(), `tracebench-e2e-${o.name}-`));
  const suiteFile = join(dir, 'suite.yaml');
  writeFileSync(
    suiteFile,
    stringify({
      name: o.name,
      configs: o.configs,
      rounds: o.rounds ?? 1,
      warmup: 0,
      iterations: 1,
      workloads: o.workloads.map((w) => ({ name: w.name, params: w.params ?? {}, ...(w.iterations ? { iterations: w.iterations } : {}), ...(w.warmup !== undefined ? { warmup: w.warmup } : {}) })),
      order: o.order ?? 'fixed',
      machine: { bootTimeoutS: o.bootTimeoutS ?? 600, quiet: o.quiet ?? FUNCTIONAL_ONLY },
    }),
  );
  o.onResultsDir?.(join(dir, 'results'));
  const result = await bench({ suite: suiteFile, out: join(dir, 'results'), reports: join(dir, 'reports'), quiet: !process.env.TRACEBENCH_E2E_VERBOSE });
  return { ...readResultSet(result.outDir), bench: result };
}

/** Console text of a boot, for oops/WARN scans. */
export function consoleOf(rs: ResultSet, boot: number): string {
  const rec = rs.manifest.boots.find((b) => b.boot === boot);
  if (!rec) throw new Error(`no boot ${boot} in ${rs.dir}`);
  const p = join(rs.dir, rec.console);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
