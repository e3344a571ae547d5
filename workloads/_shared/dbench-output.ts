// The dbench/tbench summary parser. dbench and tbench print the same output (tbench is the
// same dbench.c main with the socket backend), so both workloads import this one module
// (lkp-tests ended up with two drifting copies).
//
// Generations handled; the format strings and the sahlberg/dbench commits that introduced
// them are in docs/output-generations.md, formats of 4.x in /work/shared/reference §8:
//  - 1.x (1999-2001): "Throughput %g MB/sec (NB=%g MB/sec  %g MBit/sec)", later with
//    " (sync mode)" or " (sync open)"/" (sync dirs)" and "  %d procs"; "N clients started"
//  - 2.x (2002) and 3.x (2004): "Throughput %g MB/sec%s%s %d procs"; 2.x progress lines
//    end in \r, 3.x prints "warmup/execute/cleanup N sec" lines without latency
//  - git between 2007-06-24 and 2007-07-16: progress lines gain "latency", the summary
//    gains "  max_latency=%.03f ms" before clients are counted separately
//  - 4.0 tarball (Debian 4.0-2.1, what the guest runs): 12-char op table, "releasing clients"
//  - git-era 4.00 and 5.0: 22-char op names, counts wider than %7u, "Releasing clients"
//  - --machine-readable (git >= 2009-10 and 5.0): @W@/@R@/@C@, :op:, ;thr;clients;procs;lat;
//  - gormanm fork --show-execute-time: "N completed in X ms at time Y ms"
//  - " (sync open)" / " (sync dirs)" suffixes and %g throughput in exponent form
// Outputs pasted into mail or docs are read too: any indentation (or none) before the
// summary line, progress lines and op-table rows, and \r-overwritten progress lines.
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
 * Each is emitted only when the output prints it: 1.x-3.x print no `clients` and no
 * `maxLatency`, 1.0 not even `procs`.
 */
export const dbenchMetrics: Record<string, MetricSpec> = {
  throughput: { unit: 'MB/s', better: 'higher' },
  maxLatency: { unit: 'ms', better: 'lower' },
  clients: { unit: 'count', better: 'higher' },
  procs: { unit: 'count', better: 'higher' },
  /** 1.x only: the "NB=" figure, throughput scaled to the original NetBench run */
  netbenchThroughput: { unit: 'MB/s', better: 'higher' },
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
/**
 * Every generation's summary line. Groups: 1 throughput, 2 NB= (1.x), 3 sync suffixes,
 * 4 clients (4.x), 5 procs (all but 1.0), 6 max_latency (git 2007-07 and 4.x).
 */
const reThroughput = new RegExp(
  String.raw`^\s*Throughput (${NUM}) MB\/sec` +
    String.raw`(?: \(NB=(${NUM}) MB\/sec\s+${NUM} MBit\/sec\))?` +
    String.raw`((?: \(sync (?:open|dirs|mode)\))*)` +
    String.raw`(?:\s+(\d+) clients)?` +
    String.raw`(?:\s+(\d+) procs)?` +
    String.raw`(?:\s+max_latency=(${NUM}) ms)?\s*$`,
);
const reThroughputStart = new RegExp(String.raw`^\s*Throughput\s+(${NUM})\s+MB\/sec`);
// 3.x prints no latency on progress lines; 4.x prints "latency X ms"
const reProgress = /^\s*(\d+)\s+(\d+)\s+([\d.]+) MB\/sec\s+(warmup|execute)\s+(\d+) sec(?:\s+latency ([\d.]+) ms)?\s*$/;
const reOpHeader = /^\s*Operation\s+Count\s+AvgLat\s+MaxLat\s*$/;
const reOpRule = /^\s*-+\s*$/;
const reOpRow = /^\s*([A-Za-z_]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s*$/;
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
  netbench?: number;
  clients?: number;
  procs?: number;
  maxLatency?: number;
  line: number;
}

/** Receives what is wrong but does not invalidate the primary figure. */
export type Warn = (message: string) => void;

/** Says which part of a line starting with "Throughput" is not what any dbench prints. */
function throughputProblem(line: string): string {
  const start = reThroughputStart.exec(line);
  if (!start) return 'malformed Throughput line: no number followed by "MB/sec" after "Throughput"';
  if (!/\bprocs\b/.test(line) && !/\(NB=/.test(line)) {
    return 'malformed Throughput line: no "N procs" count (nor a 1.x "(NB=...)" figure) after the MB/sec figure';
  }
  return `malformed Throughput line: unexpected text after "${start[0].trim()}"`;
}

/**
 * Parse dbench/tbench stdout into metrics. `what` names the workload in errors.
 * Throws ParseError at the first fatal line, at a malformed or duplicate summary line, at
 * a throughput <= 0 ("is not a measurement"), and when no summary line was printed.
 * A malformed op table does not invalidate the throughput: its metrics are left out and
 * `warn` is told why.
 */
export function parseDbenchOutput(raw: string, what: string, warn: Warn = () => {}): Metric[] {
  // A terminal shows only the text after the last \r of a line (2.x progress lines are
  // \r-terminated), and CRLF endings are plain line ends.
  const lines = raw.split(/\r?\n/);
  const view = lines.map((l) => l.slice(l.lastIndexOf('\r') + 1));
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
  let tableLine = -1;
  let perClient = false;
  const passes: number[] = [];
  // The first malformed row of the overall op table: the whole table is then left out,
  // since a table with holes would compare ops that exist in one sample and not another.
  let badRow: number | undefined;

  const setFinal = (f: Final, i: number) => {
    if (final) fail(i, `second result line (first on line ${final.line})`);
    if (!(f.throughput > 0)) fail(i, `throughput of ${f.throughput} MB/sec is not a measurement`);
    if (f.clients !== undefined && f.clients < 1) fail(i, `result reports ${f.clients} clients`);
    if (f.procs !== undefined && f.procs < 1) fail(i, `result reports ${f.procs} procs`);
    final = f;
  };
  const addOp = (name: string, count: number, avg: number) => {
    if (!perClient && !ops.has(name)) ops.set(name, { count, avg });
  };

  for (let i = 0; i < lines.length; i++) {
    const line = view[i]!;
    for (const f of fatal) if (f.re.test(line)) fail(i, f.why);

    if (table === 'header' || table === 'rows') {
      if (table === 'header' && reOpRule.test(line)) {
        table = 'rows';
        continue;
      }
      // Pasted outputs sometimes lose the rule or the blank line that ends the table:
      // rows right after the header, or the summary right after the last row, still count.
      table = 'rows';
      if (line.trim() === '') {
        table = 'done';
        continue;
      }
      if (!/^\s*Throughput\b/.test(line)) {
        const m = reOpRow.exec(line);
        if (m) addOp(m[1]!, num(m[2]!, i), num(m[3]!, i));
        else if (!perClient) badRow ??= i;
        continue;
      }
      table = 'done';
    }
    if (reOpHeader.test(line)) {
      // Only the first table is the overall one; later ones are per client.
      table = 'header';
      if (tableLine >= 0) perClient = true;
      tableLine = i;
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
    } else if ((m = reThroughput.exec(line)) && (m[2] !== undefined || m[5] !== undefined)) {
      // every generation prints "N procs" except 1.0, which prints the NB= figure instead
      const opt = (s: string | undefined) => (s === undefined ? undefined : num(s, i));
      setFinal(
        { throughput: num(m[1]!, i), netbench: opt(m[2]), clients: opt(m[4]), procs: opt(m[5]), maxLatency: opt(m[6]), line: i + 1 },
        i,
      );
    } else if ((m = reMachineFinal.exec(line))) {
      setFinal({ throughput: num(m[1]!, i), clients: num(m[2]!, i), procs: num(m[3]!, i), maxLatency: num(m[4]!, i), line: i + 1 }, i);
    } else if (/^\s*Throughput\b/.test(line)) {
      fail(i, throughputProblem(line));
    }
  }

  if (!final) throw noSummary(what, lines, view);
  if (badRow !== undefined) {
    warn(
      `${what}: line ${badRow + 1}: malformed op table row ${JSON.stringify(lines[badRow])}: ` +
        `the op table from line ${tableLine + 1} is left out; throughput is unaffected`,
    );
    ops.clear();
  }

  const out: Metric[] = [];
  const push = (name: string, value: number | undefined) => {
    if (value === undefined) return;
    const spec = dbenchMetrics[name] ?? (name.endsWith('.count') ? opCount : opAvgLatency);
    out.push({ name, value, unit: spec.unit, better: spec.better });
  };
  push('throughput', final.throughput);
  push('maxLatency', final.maxLatency);
  push('clients', final.clients);
  push('procs', final.procs);
  push('netbenchThroughput', final.netbench);
  push('lastExecuteThroughput', lastExecute);
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

/** The error for an output without a summary line, naming what it shows instead. */
function noSummary(what: string, lines: string[], view: string[]): ParseError {
  const nonEmpty = view.map((l, i) => [l, i] as const).filter(([l]) => l.trim() !== '');
  if (nonEmpty.length === 0) return new ParseError(what, 'no Throughput line: the output is empty');
  const mention = nonEmpty.find(([l]) => /Throughput\s+\S+\s+MB\/sec/.test(l));
  if (mention) {
    // e.g. "ext3 Throughput 179.726 MB/sec 20 procs" pasted with a label in front
    return new ParseError(
      what,
      'no Throughput line: this line has a Throughput figure but not at the start of the line (remove what precedes "Throughput")',
      mention[1] + 1,
      lines[mention[1]],
    );
  }
  const [last, i] = nonEmpty.at(-1)!;
  return new ParseError(
    what,
    `no Throughput line (run did not finish or output truncated): the output ends at line ${i + 1} ${JSON.stringify(last.trim())}`,
  );
}
