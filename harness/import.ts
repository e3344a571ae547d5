// Numbers measured elsewhere -> a result set that `report` and `compare` read.
// Pure: text in, manifest and samples out; harness/cli/import.ts does the I/O.
// Every error names the line and the field, because the user will fix the file
// by hand.
import { ExitCode, TracebenchError } from './errors.js';
import { FORMAT_VERSION, manifestSchema, sampleSchema, type Manifest, type Sample } from './store/schema.js';
import { tracers } from './tracers/index.js';
import type { Better } from './types.js';

export const IMPORT_HEADER = ['workload', 'config', 'iteration', 'metric', 'value', 'unit'] as const;
export const BASELINE = 'vanilla';

/**
 * Metric names whose direction is known. A metric not listed here is still
 * accepted when its unit says the direction (a rate per second is
 * higher-better, a time is lower-better); otherwise the import is refused,
 * because a guessed direction would turn a slowdown into a speed-up.
 */
export const KNOWN_METRICS: Record<string, { units: string[]; better: Better }> = {
  throughput: { units: ['MB/s'], better: 'higher' }, // dbench, tbench
  elapsed: { units: ['s'], better: 'lower' }, // kernbench
  nsPerCall: { units: ['ns'], better: 'lower' }, // syscall loop
};
/** spellings seen in the wild, normalized so cells with the same meaning compare */
const UNIT_ALIASES: Record<string, string> = { 'MB/sec': 'MB/s', 'MiB/s': 'MiB/s', sec: 's', seconds: 's', nsec: 'ns' };
const TIME_UNITS = new Set(['s', 'ms', 'us', 'µs', 'ns']);
// a config named <tracer>-<variant> belongs to a registered tracer (the registry's keys)
const KNOWN_TRACERS = new Set(Object.keys(tracers));
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export interface ImportOptions {
  runId: string;
  /** ISO time of the import (the manifest's startedAt); passed in to keep this pure */
  importedAt: string;
  toolVersion: string;
  gitSha?: string;
  /** the CSV's path, recorded in the manifest */
  file?: string;
  /** "kvm", "tcg", "bare-metal" ... when known; "unknown" otherwise */
  accelerator?: string;
  /** kernel name for every row (the CSV has no kernel column) */
  kernel?: string;
  notes?: string[];
}

function fail(message: string, hint?: string): never {
  throw new TracebenchError({ message, hint, exitCode: ExitCode.usage });
}

/** RFC 4180 fields of one line: commas, double quotes with "" escapes; no multi-line fields */
export function splitCsvLine(line: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) fail(`${where}: unterminated quoted field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') fail(`${where}: text after a closing quote`);
    } else {
      const next = line.indexOf(',', i);
      field = next === -1 ? line.slice(i) : line.slice(i, next);
      i = next === -1 ? line.length : next;
    }
    out.push(field.trim());
    if (i >= line.length) return out;
    i++; // the comma
  }
}

function direction(metric: string, unit: string, where: string): Better {
  const known = KNOWN_METRICS[metric];
  if (known) {
    if (!known.units.includes(unit)) fail(`${where}: field "unit": metric "${metric}" is measured in ${known.units.join(' or ')}, not "${unit}"`);
    return known.better;
  }
  if (/\/s$/.test(unit)) return 'higher';
  if (TIME_UNITS.has(unit)) return 'lower';
  fail(
    `${where}: field "metric": cannot tell whether higher or lower "${metric}" (${unit}) is better`,
    `use one of ${Object.keys(KNOWN_METRICS).join(', ')}, or a unit per second (higher is better) or a time unit (${[...TIME_UNITS].join(', ')}; lower is better)`,
  );
}

export function tracerOf(config: string): string {
  if (config === BASELINE) return 'none';
  const head = config.split('-')[0]!;
  return KNOWN_TRACERS.has(head) ? head : config;
}

export function importCsv(text: string, opts: ImportOptions): { manifest: Manifest; samples: Sample[] } {
  const file = opts.file ?? '<csv>';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // '#' lines are comments: the example file cites where each number came from
  const content = lines.map((l, i) => ({ l, n: i + 1 })).filter(({ l }) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (content.length === 0) fail(`${file}: empty: expected the header ${IMPORT_HEADER.join(',')}`);
  const head = content[0]!;
  const header = splitCsvLine(head.l, `${file}:${head.n}`);
  if (header.join(',') !== IMPORT_HEADER.join(',')) {
    fail(`${file}:${head.n}: header is "${header.join(',')}", expected "${IMPORT_HEADER.join(',')}"`);
  }
  const samples: Sample[] = [];
  const seen = new Map<string, number>();
  for (const { l, n } of content.slice(1)) {
    const where = `${file}:${n}`;
    const f = splitCsvLine(l, where);
    if (f.length !== IMPORT_HEADER.length) fail(`${where}: ${f.length} fields, expected ${IMPORT_HEADER.length} (${IMPORT_HEADER.join(',')})`);
    const [workload, config, iterationText, metric, valueText, unitText] = f as [string, string, string, string, string, string];
    for (const [field, v] of [['workload', workload], ['config', config], ['metric', metric]] as const) {
      if (!NAME.test(v)) fail(`${where}: field "${field}": "${v}" is not a name (letters, digits, . _ + -)`);
    }
    if (config !== BASELINE && config.toLowerCase() === BASELINE) fail(`${where}: field "config": write the baseline as "${BASELINE}", not "${config}"`);
    if (!/^[1-9][0-9]*$/.test(iterationText)) fail(`${where}: field "iteration": "${iterationText}" is not a positive integer`);
    const value = Number(valueText);
    if (valueText === '' || !Number.isFinite(value)) fail(`${where}: field "value": "${valueText}" is not a number`);
    if (unitText === '') fail(`${where}: field "unit": empty`);
    const unit = UNIT_ALIASES[unitText] ?? unitText;
    const better = direction(metric, unit, where);
    // Every metric import accepts is a rate or a time, where 0 or less is not a
    // measurement (a failed run that still printed a number): let through, it
    // makes the harmonic mean and the bootstrap undefined and a compare "no change".
    if (!(value > 0)) {
      fail(
        `${where}: field "value": ${valueText} ${unit} is not a measurement: ${metric} must be above 0`,
        'a run that failed has no value: leave its row out (or fix the number)',
      );
    }
    const iteration = Number(iterationText);
    const key = `${workload},${config},${iteration},${metric}`;
    const prev = seen.get(key);
    if (prev !== undefined) fail(`${where}: duplicate of line ${prev} (${key})`);
    seen.set(key, n);
    samples.push(
      sampleSchema.parse({
        boot: 0, round: 0, kernel: opts.kernel ?? 'unknown', config, tracer: tracerOf(config), workload, iteration,
        warmup: false, status: 'ok', metrics: [{ name: metric, value, unit, better }], trace: null,
        raw: `${file}:${n}`,
      }),
    );
  }
  if (samples.length === 0) fail(`${file}: no data rows after the header`);
  const configs = [...new Set(samples.map((s) => s.config))];
  const workloads = [...new Set(samples.map((s) => s.workload))];
  const noBaseline = workloads.filter((w) => !samples.some((s) => s.workload === w && s.config === BASELINE));
  const manifest = manifestSchema.parse({
    formatVersion: FORMAT_VERSION,
    runId: opts.runId,
    tool: { name: 'tracebench', version: opts.toolVersion, ...(opts.gitSha ? { gitSha: opts.gitSha } : {}) },
    suite: { name: 'import', file: opts.file, definition: null },
    source: 'import',
    accelerator: opts.accelerator ?? 'unknown',
    kernels: [{ name: opts.kernel ?? 'unknown', source: 'import' }],
    tracers: configs.map((c) => ({ config: c, tracer: tracerOf(c), options: {}, pinned: [] })),
    workloads: workloads.map((w) => ({ name: w, params: {} })),
    startedAt: opts.importedAt,
    boots: [],
    notes: [
      `imported from ${file}: numbers measured elsewhere; boots, trace volume and armed events were not recorded`,
      ...noBaseline.map((w) => `workload ${w} has no ${BASELINE} rows: no slowdown can be computed for it`),
      ...(opts.notes ?? []),
    ],
  });
  return { manifest, samples };
}
