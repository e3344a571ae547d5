// The dbench/tbench summary parser. dbench and tbench print the same output, so both
// workloads import this one module (lkp-tests ended up with two drifting copies).
//
// Generations handled (formats: /work/shared/reference/output-formats.md §8):
//  - 4.0 tarball (Debian 4.0-2.1, what the guest runs): 12-char op table, "releasing clients"
//  - git-era 4.00 and 5.0: 22-char op names, counts wider than %7u, "Releasing clients"
//  - --machine-readable (git >= 2009-10 and 5.0): @W@/@R@/@C@, :op:, ;thr;clients;procs;lat;
//  - gormanm fork --show-execute-time: "N completed in X ms at time Y ms"
//  - " (sync open)" / " (sync dirs)" suffixes and %g throughput in exponent form
// Only the overall op table is read; "Per client results:" tables that follow are skipped.
import { ParseError } from '../../harness/errors.js';
import type { Metric, MetricSpec } from '../../harness/types.js';


/** Op names of the 4.0 tarball's built-in table: the ones our Debian guest prints. */
export const dbenchOpNames = [
  'NTCreateX', 'Close', 'Rename', 'Unlink', 'Deltree', 'Rmdir', 'Mkdir', 'Qpathinfo',
  'Qfileinfo', 'Qfsinfo', 'Sfileinfo', 'Find', 'WriteX', 'ReadX', 'LockX', 'UnlockX', 'Flush',
] as const;

// Per-op metrics are kept to count and mean latency: per-op max latency is one sample
// per run and too noisy to compare; the run-wide maximum is `maxLatency`.
const opCount: MetricSpec = { unit: 'count', better: 'higher' };
const opAvgLatency: MetricSpec = { unit: 'ms', better: 'lower' };

/**
 * Metrics a dbench-format summary can yield. `clients`/`procs` echo the configuration
 * (direction is meaningless for them; 'higher' only because the type needs one).
 */
export const dbenchMetrics: Record<string, MetricSpec> = {
  throughput: { unit: 'MB/s', better: 'higher' },
  maxLatency: { unit: 'ms', better: 'lower' },
  clients: { unit: 'count', better: 'higher' },
  procs: { unit: 'count', better: 'higher' },
  /** cumulative MB/s of the last per-second execute line; equals `throughput` in 4.0 */
  lastExecuteThroughput: { unit: 'MB/s', better: 'higher' },
  /** gormanm fork only: completed loadfile passes and their mean duration */
  loadfilePasses: { unit: 'count', better: 'higher' },
  loadfilePassMean: { unit: 'ms', better: 'lower' },
  ...Object.fromEntries(
    dbenchOpNames.flatMap((op) => [
      [`op.${op}.count`, opCount],
      [`op.${op}.avgLatency`, opAvgLatency],
    ]),
  ),
};

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const reThroughput = new RegExp(
  String.raw`^Throughput (${NUM}) MB\/sec((?: \(sync (?:open|dirs)\))*)\s+(\d+) clients\s+(\d+) procs\s+max_latency=(${NUM}) ms\s*$`,
);
const reProgress = /^\s*(\d+)\s+(\d+)\s+([\d.]+) MB\/sec\s+(warmup|execute)\s+(\d+) sec\s+latency ([\d.]+) ms\s*$/;
const reOpHeader = /^\s*Operation\s+Count\s+AvgLat\s+MaxLat\s*$/;
const reOpRule = /^\s*-+\s*$/;
const reOpRow = /^\s+([A-Za-z_]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s*$/;
const reCompleted = /^\s*(\d+) completed in (\d+) ms at time (\d+) ms\s*$/;
const reMachineProgress = /^@([WRC])@(\d+)@(\d+)@([\d.]+)@(\d+)@([\d.]+)@\s*$/;
const reMachineOp = /^:([A-Za-z_]+):(\d+):([\d.]+):([\d.]+):\s*$/;
const reMachineFinal = new RegExp(String.raw`^;(${NUM});(\d+);(\d+);(${NUM});\s*$`);

/** Lines after which a run's numbers cannot be trusted, whatever follows. */
const fatal: { re: RegExp; why: string }[] = [
  { re: /FAILED TO START/, why: 'clients failed to start' },
  { re: /^client \d+ failed to start/, why: 'a client failed to start' },
  { re: /^Child \d+ failed setup with status/, why: 'a child failed setup' },
  { re: /^Child failed with status/, why: 'a child process failed' },
  { re: /overflow in server!/, why: 'tbench_srv overflowed' },
];

interface Final {
  throughput: number;
  clients: number;
  procs: number;
  maxLatency: number;
  line: number;
}

/**
 * Parse dbench/tbench stdout into metrics. `what` names the workload in errors.
 * Throws ParseError at the first fatal line or a malformed result line, with
 * "no Throughput line" when the run never printed its summary, and at a malformed
 * op-table row otherwise.
 */
export function parseDbenchOutput(raw: string, what: string): Metric[] {
  const lines = raw.split(/\r?\n/);
  const fail = (i: number, msg: string): never => {
    throw new ParseError(what, msg, i + 1, lines[i]);
  };
  const num = (s: string, i: number): number => {
    const v = Number(s);
    return Number.isFinite(v) ? v : fail(i, `not a number: ${s}`);
  };

  let final: Final | undefined;
  let lastExecute: number | undefined;
  const ops = new Map<string, { count: number; avg: number }>();
  let table: 'none' | 'header' | 'rows' | 'done' = 'none';
  let perClient = false;
  const passes: number[] = [];
  // A bad op-table row is reported only if the summary is there: without it the
  // output was cut short, and "no Throughput line" says so better.
  let badRow: number | undefined;

  const setFinal = (f: Final, i: number) => {
    if (final) fail(i, `second result line (first on line ${final.line})`);
    if (f.clients < 1) fail(i, 'result reports no clients');
    final = f;
  };
  const addOp = (name: string, count: number, avg: number) => {
    if (!perClient && !ops.has(name)) ops.set(name, { count, avg });
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const f of fatal) if (f.re.test(line)) fail(i, f.why);

    if (table === 'header') {
      if (!reOpRule.test(line)) fail(i, 'expected the op table rule after its header');
      table = 'rows';
      continue;
    }
    if (table === 'rows') {
      if (line.trim() === '') {
        table = 'done';
        continue;
      }
      const m = reOpRow.exec(line);
      if (m) addOp(m[1]!, num(m[2]!, i), num(m[3]!, i));
      else badRow ??= i;
      continue;
    }
    if (reOpHeader.test(line)) {
      // Only the first table is the overall one; later ones are per client.
      table = 'header';
      if (ops.size > 0) perClient = true;
      continue;
    }
    if (line.startsWith('Per client results:')) {
      perClient = true;
      continue;
    }

    let m: RegExpExecArray | null;
    if ((m = reProgress.exec(line))) {
      if (m[4] === 'execute') lastExecute = num(m[3]!, i);
    } else if ((m = reMachineProgress.exec(line))) {
      if (m[1] === 'R') lastExecute = num(m[4]!, i);
    } else if ((m = reMachineOp.exec(line))) {
      addOp(m[1]!, num(m[2]!, i), num(m[3]!, i));
    } else if ((m = reCompleted.exec(line))) {
      passes.push(num(m[2]!, i));
    } else if ((m = reThroughput.exec(line))) {
      setFinal({ throughput: num(m[1]!, i), clients: num(m[3]!, i), procs: num(m[4]!, i), maxLatency: num(m[5]!, i), line: i + 1 }, i);
    } else if ((m = reMachineFinal.exec(line))) {
      setFinal({ throughput: num(m[1]!, i), clients: num(m[2]!, i), procs: num(m[3]!, i), maxLatency: num(m[4]!, i), line: i + 1 }, i);
    } else if (/^\s*Throughput\b/.test(line)) {
      fail(i, 'malformed Throughput line');
    }
  }

  if (!final) throw new ParseError(what, 'no Throughput line (run did not finish or output truncated)');
  if (badRow !== undefined) fail(badRow, 'malformed op table row');

  const out: Metric[] = [];
  const push = (name: string, value: number) => {
    const spec = dbenchMetrics[name] ?? (name.endsWith('.count') ? opCount : opAvgLatency);
    out.push({ name, value, unit: spec.unit, better: spec.better });
  };
  push('throughput', final.throughput);
  push('maxLatency', final.maxLatency);
  push('clients', final.clients);
  push('procs', final.procs);
  if (lastExecute !== undefined) push('lastExecuteThroughput', lastExecute);
  if (passes.length > 0) {
    push('loadfilePasses', passes.length);
    push('loadfilePassMean', passes.reduce((a, b) => a + b, 0) / passes.length);
  }
  for (const [name, o] of ops) {
    push(`op.${name}.count`, o.count);
    push(`op.${name}.avgLatency`, o.avg);
  }
  return out;
}
