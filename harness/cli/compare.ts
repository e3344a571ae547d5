// tracebench compare <baseline-run> <candidate-run>: exit 0 no regression,
// 5 regression, 6 inconclusive (no gated cell could be judged), 2 usage or input
// error (a missing directory, a refused mismatch or mix of devices); 1 is only ever a crash
// (harness/errors.ts has the table).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { compareFormats, compareRuns, defaultThresholds, parseThresholds, type CompareFormat, type ComparisonResult, type Thresholds } from '../compare/index.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { BASELINE_FILE, parseBaselineFile } from '../publish/baseline.js';
import { MANIFEST, readResultSet } from '../store/store.js';

interface Args {
  baseline: string;
  candidate: string;
  thresholds?: string;
  allowMismatch: boolean;
  acrossDevices: boolean;
  json: boolean;
  markdown: boolean;
  write: string[];
  allMetrics: boolean;
}

const DEFAULT_THRESHOLDS = fileURLToPath(new URL('../../configs/thresholds.yaml', import.meta.url));

/** A results root with an accepted `baseline` file stands for that run. `role` names the argument in errors. */
export function resolveRunDir(arg: string, role = 'run'): string {
  if (!existsSync(arg)) {
    throw new TracebenchError({ message: `${role} ${arg}: no such directory`, hint: 'pass a results/<run-id> directory', exitCode: ExitCode.usage });
  }
  if (!statSync(arg).isDirectory()) {
    throw new TracebenchError({ message: `${role} ${arg}: not a directory`, hint: 'pass a results/<run-id> directory, not a file in it', exitCode: ExitCode.usage });
  }
  if (existsSync(join(arg, MANIFEST))) return arg;
  const file = join(arg, BASELINE_FILE);
  if (existsSync(file)) {
    const dir = join(arg, parseBaselineFile(readFileSync(file, 'utf8'), file));
    if (!existsSync(join(dir, MANIFEST))) {
      throw new TracebenchError({ message: `${file} names ${dir}, which is not a result directory`, hint: 'accept an existing run with `tracebench baseline accept`', exitCode: ExitCode.usage });
    }
    return dir;
  }
  return arg; // readResultSet names the missing manifest
}

/** The thresholds file given, else configs/thresholds.yaml of this checkout. */
export function loadThresholds(path: string | undefined): Thresholds {
  const p = path ?? DEFAULT_THRESHOLDS;
  if (!existsSync(p)) {
    if (path) throw new TracebenchError({ message: `${path}: no such thresholds file`, exitCode: ExitCode.usage });
    return defaultThresholds;
  }
  return parseThresholds(readFileSync(p, 'utf8'), p);
}

/**
 * No gated cell could be judged (every one "insufficient data", or none gated):
 * the comparison showed nothing either way, so a gate must not pass on it.
 */
export function isInconclusive(r: ComparisonResult): boolean {
  return r.outcome !== 'regression' && r.inconclusive;
}

const FORMAT_BY_EXT: Record<string, CompareFormat> = { '.json': 'json', '.md': 'markdown', '.txt': 'text' };

export const compareCommand: CommandModule<object, Args> = {
  command: 'compare <baseline> <candidate>',
  describe: 'is the candidate run slower under tracing than the baseline run? (exit 5 on a regression, 6 when nothing could be judged)',
  builder: (y) =>
    y
      .positional('baseline', { type: 'string', demandOption: true, describe: 'baseline run directory, or a results root with an accepted `baseline` file' })
      .positional('candidate', { type: 'string', demandOption: true, describe: 'candidate run directory' })
      .option('thresholds', { type: 'string', describe: 'thresholds file (default configs/thresholds.yaml)' })
      .option('allow-mismatch', { type: 'boolean', default: false, describe: 'compare even if the manifests differ outside the declared axes' })
      .option('across-devices', { type: 'boolean', default: false, describe: 'compare even if the runs ran on different devices or a cell spans devices (slowdowns averaged over devices; the output says so)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('markdown', { type: 'boolean', default: false, describe: 'print Markdown (for a CI comment)' })
      .option('write', { type: 'string', array: true, default: [], describe: 'also write the result to FILE (.txt, .json or .md by extension); repeatable' })
      .option('all-metrics', { type: 'boolean', default: false, describe: 'also show metrics that do not gate (informational)' }) as never,
  handler: async (a) => {
    // checked here, not with yargs .conflicts(): that counts a boolean's default false as given
    if (a.json && a.markdown) throw new TracebenchError({ message: '--json and --markdown are mutually exclusive', hint: 'use --write FILE.md to get both', exitCode: ExitCode.usage });
    for (const w of a.write) {
      if (!FORMAT_BY_EXT[extname(w)]) throw new TracebenchError({ message: `--write ${w}: extension must be .txt, .json or .md`, exitCode: ExitCode.usage });
    }
    const thresholds = loadThresholds(a.thresholds);
    // both checked before either is read, so one run names every missing directory
    const missing = ([['baseline', a.baseline], ['candidate', a.candidate]] as const).filter(([, d]) => !existsSync(d));
    if (missing.length > 0) {
      throw new TracebenchError({
        message: missing.map(([role, d]) => `${role} ${d}: no such directory`).join('; '),
        hint: 'pass results/<run-id> directories (or a results root with an accepted baseline)',
        exitCode: ExitCode.usage,
      });
    }
    const base = readResultSet(resolveRunDir(a.baseline, 'baseline'));
    const cand = readResultSet(resolveRunDir(a.candidate, 'candidate'));
    const result = compareRuns(base, cand, { thresholds, allowMismatch: a.allowMismatch, allMetrics: a.allMetrics, acrossDevices: a.acrossDevices });
    const format: CompareFormat = a.json ? 'json' : a.markdown ? 'markdown' : 'text';
    process.stdout.write(compareFormats[format](result));
    for (const w of a.write) writeFileSync(w, compareFormats[FORMAT_BY_EXT[extname(w)]!](result));
    if (result.outcome === 'regression') {
      // after the table is printed: bin/tracebench.ts turns this into exit status 5
      throw new TracebenchError({
        message: `${result.regressions} regression${result.regressions === 1 ? '' : 's'} in ${result.candidate.runId} vs ${result.baseline.runId}`,
        hint: 'if the change is intended, accept the candidate: `tracebench baseline accept ' + result.candidate.dir + '`',
        exitCode: ExitCode.regression,
      });
    }
    if (isInconclusive(result)) {
      const gated = result.cells.filter((c) => c.gated).length;
      throw new TracebenchError({
        message: `inconclusive: no gated cell of ${result.candidate.runId} vs ${result.baseline.runId} could be judged (${gated === 0 ? 'no gated cell in common' : `${gated} of ${gated} insufficient data`})`,
        hint: `each gated cell needs at least ${thresholds.minSamples} ok samples per config in both runs: run a longer suite (e.g. --suite standard)`,
        exitCode: ExitCode.inconclusive,
      });
    }
  },
};
