// Parser for kernbench results, in either of two shapes:
//
// (a) Our own timed build (workloads/kernbench/index.ts `run`). stdout is:
//       tb-kernbench config=tinyconfig jobs=8 targets=12
//       [Command exited with non-zero status N]        (GNU time, only on failure)
//       tb-kernbench elapsed=%e user=%U sys=%S cpu=%P ctxsw_invol=%c ctxsw_vol=%w maxrss_kb=%M
//       tb-kernbench make_status=N
//     `jobs=unlimited` for the maximal load (`make -j`). cpu=%P prints e.g. "187%" (or
//     "?%" when elapsed is 0). A missing or non-zero make_status is an error.
//
// (b) Con Kolivas' kernbench script (0.42/0.50), averaged blocks:
//       Average Optimal load -j 8 Run (std deviation):
//       Elapsed Time 28.094 (0.182565)      (awk %.6g: may be 1.8781e+06; no "(sdev)" with -n 1)
//       ... User Time, System Time, Percent CPU, Context Switches, Sleeps, then a blank line
//     kernbench's "Context Switches" is GNU time %c (involuntary) and "Sleeps" is %w
//     (voluntary), so they map to the same metric names as (a).
//     Older scripts (before 0.40, see docs/output-generations.md) print no "(std deviation)"
//     and name the loads "Single Threaded", "Half Load", "Optimum Load", "Maximum Load"
//     (0.20) or "Half Load -j 8", "Optimal -j 64 Load", "Maximal -j Load" (later pre-0.40 scripts). Pasted
//     results also come indented, without the blank line between blocks, with a decimal
//     comma (awk under a locale such as pl_PL) or with only some of the six lines kept:
//     a block needs its Elapsed Time, other missing lines are reported through `warn`.
//
// Metrics: elapsed (s, PRIMARY), user, system (s), cpuPercent, ctxswInvoluntary,
// ctxswVoluntary, plus maxRss and jobs for (a). For (b) every block also yields
// `<load>.<metric>` and `<load>.<metric>Sdev` with load in single|half|optimal|maximal;
// the unprefixed metrics come from the optimal block when present, else the first.
import { ParseError } from '../../harness/errors.js';
import type { Better, Metric, MetricSpec } from '../../harness/types.js';


const base: Record<string, MetricSpec> = {
  elapsed: { unit: 's', better: 'lower' },
  user: { unit: 's', better: 'lower' },
  system: { unit: 's', better: 'lower' },
  // share of one CPU used on average; higher means the build kept the CPUs busier
  cpuPercent: { unit: '%', better: 'higher' },
  ctxswInvoluntary: { unit: 'count', better: 'lower' },
  ctxswVoluntary: { unit: 'count', better: 'lower' },
};
const loads = ['single', 'half', 'optimal', 'maximal'] as const;
type Load = (typeof loads)[number];

export const kernbenchMetrics: Record<string, MetricSpec> = {
  ...base,
  maxRss: { unit: 'KiB', better: 'lower' },
  jobs: { unit: 'count', better: 'higher' },
  ...Object.fromEntries(
    loads.flatMap((l) =>
      Object.entries(base).flatMap(([k, s]) => [
        [`${l}.${k}`, s],
        [`${l}.${k}Sdev`, { unit: s.unit, better: 'lower' as Better }],
      ]),
    ),
  ),
};

const WHAT = 'kernbench';
const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;

const reTime = new RegExp(
  String.raw`^tb-kernbench elapsed=(${NUM}) user=(${NUM}) sys=(${NUM}) cpu=(\S+)% ctxsw_invol=(\d+) ctxsw_vol=(\d+) maxrss_kb=(\d+)\s*$`,
);
const reStatus = /^tb-kernbench make_status=(\d+)\s*$/;
const reInfo = /^tb-kernbench config=\S+ jobs=(\d+|unlimited) targets=\d+\s*$/;
const reTimeFailed = /^Command (exited with non-zero status|terminated by signal) (\d+)/;

const reBlock = /^\s*Average (.+?) Run(?: \(std deviation\))?:\s*$/;
/** a number as awk prints it, or with a decimal comma (awk under e.g. pl_PL: "365,4") */
const VAL = String.raw`[-+]?(?:\d+(?:[.,]\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
const reBlockLine = new RegExp(
  String.raw`^\s*(Elapsed Time|User Time|System Time|Percent CPU|Context Switches|Sleeps)\s+(${VAL})(?:\s+\((${VAL})\))?\s*$`,
);
const reBlockKey = /^\s*(Elapsed Time|User Time|System Time|Percent CPU|Context Switches|Sleeps)\b/;
const blockKey: Record<string, string> = {
  'Elapsed Time': 'elapsed',
  'User Time': 'user',
  'System Time': 'system',
  'Percent CPU': 'cpuPercent',
  'Context Switches': 'ctxswInvoluntary',
  Sleeps: 'ctxswVoluntary',
};
/** Elapsed, User, System, Percent CPU, Context Switches, Sleeps */
const BLOCK_LINES = Object.keys(blockKey).length;
/** The script's own fatal messages (kernbench 0.42). */
const reScriptFatal = /^(ABORTING|No kernel source found|Nothing to do; exiting|Can't find proc filesystem|.* not found in path)/;

const metric = (name: string, value: number): Metric => {
  const spec = kernbenchMetrics[name]!;
  return { name, value, unit: spec.unit, better: spec.better };
};

/** Run names of every generation: "Optimal load -j 8", "Optimum Load", "Optimal -j 64 Load" ... */
function loadOf(runname: string): Load | undefined {
  if (/^single threaded\b/i.test(runname)) return 'single';
  if (/^half\b/i.test(runname)) return 'half';
  if (/^optim(?:al|um)\b/i.test(runname)) return 'optimal';
  if (/^maxim(?:al|um)\b/i.test(runname)) return 'maximal';
  return undefined;
}

/** Receives what is wrong but does not invalidate the primary figure. */
export type Warn = (message: string) => void;

export function parseKernbench(raw: string, warn: Warn = () => {}): Metric[] {
  const lines = raw.split(/\r?\n/);
  // the newline ending the last line is not a blank line (blank lines end Average blocks)
  if (lines.at(-1) === '') lines.pop();
  const fail = (i: number, msg: string): never => {
    throw new ParseError(WHAT, msg, i + 1, lines[i]);
  };
  const num = (s: string, i: number): number => {
    const v = Number(s);
    return Number.isFinite(v) ? v : fail(i, `not a number: ${s}`);
  };
  // the script's awk prints no thousands separators, so a comma can only be a decimal one
  const val = (s: string, i: number): number => num(/^[-+]?\d+,\d*$/.test(s) ? s.replace(',', '.') : s, i);

  // (a) our timed build
  let time: Metric[] | undefined;
  let timeLine = -1;
  let status: number | undefined;
  let jobs: number | undefined;
  // (b) kernbench script blocks, in order
  const blocks: Block[] = [];
  let inBlock = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if (inBlock) {
      if (line.trim() === '') {
        closeBlock(blocks.at(-1)!, lines, warn);
        inBlock = false;
        continue;
      }
      if ((m = reBlockLine.exec(line))) {
        const sdev = m[3] === undefined ? undefined : val(m[3], i);
        const key = blockKey[m[1]!]!;
        const avg = val(m[2]!, i);
        if (key === 'elapsed' && !(avg > 0)) fail(i, `Elapsed Time ${avg} is not a measurement`);
        if (blocks.at(-1)!.values.has(key)) fail(i, `second ${m[1]} line in one block`);
        blocks.at(-1)!.values.set(key, { avg, sdev });
        continue;
      }
      // the blank line between blocks is often lost in pastes: a new header ends the block
      if (!reBlock.test(line)) {
        const key = reBlockKey.exec(line);
        fail(i, key ? `malformed ${key[1]} line in an Average block (expected "${key[1]} <number> [(<sdev>)]")` : 'malformed line in an Average block');
      }
      closeBlock(blocks.at(-1)!, lines, warn);
      inBlock = false;
    }
    if ((m = reBlock.exec(line))) {
      const load = loadOf(m[1]!) ?? fail(i, `unknown run name "${m[1]}"`);
      const prev = blocks.find((b) => b.load === load);
      if (prev) fail(i, `second ${load} block (first on line ${prev.line + 1})`);
      blocks.push({ load, line: i, header: m[1]!, values: new Map() });
      inBlock = true;
    } else if ((m = reTimeFailed.exec(line))) {
      fail(i, m[1] === 'terminated by signal' ? `make was killed by signal ${m[2]}` : `make failed with status ${m[2]}`);
    } else if ((m = reStatus.exec(line))) {
      status = num(m[1]!, i);
      if (status !== 0) fail(i, `make failed with status ${status}`);
    } else if ((m = reTime.exec(line))) {
      if (time) fail(i, `second time line (first on line ${timeLine + 1})`);
      timeLine = i;
      if (!(num(m[1]!, i) > 0)) fail(i, `elapsed ${m[1]} s is not a measurement`);
      // "?%" when elapsed rounds to 0: no meaningful share, so leave the metric out
      const cpu = m[4] === '?' ? [] : [metric('cpuPercent', num(m[4]!, i))];
      time = [
        metric('elapsed', num(m[1]!, i)),
        metric('user', num(m[2]!, i)),
        metric('system', num(m[3]!, i)),
        ...cpu,
        metric('ctxswInvoluntary', num(m[5]!, i)),
        metric('ctxswVoluntary', num(m[6]!, i)),
        metric('maxRss', num(m[7]!, i)),
      ];
    } else if ((m = reInfo.exec(line))) {
      if (m[1] !== 'unlimited') jobs = num(m[1]!, i);
    } else if (line.startsWith('tb-kernbench ')) {
      fail(i, 'malformed tb-kernbench line');
    } else if (reScriptFatal.test(line)) {
      fail(i, 'kernbench aborted');
    }
  }

  if (time) {
    if (blocks.length > 0) fail(timeLine, 'mixed output: both a tb-kernbench time line and kernbench Average blocks');
    if (status === undefined) fail(timeLine, 'no make_status line after the time line (output truncated?)');
    return jobs === undefined ? time : [...time, metric('jobs', jobs)];
  }
  if (blocks.length === 0) {
    throw new ParseError(WHAT, 'no result: neither a tb-kernbench time line nor an "Average ... Run" block');
  }
  // the script ends every block with a blank line; accept a block without it unless it is
  // only a header (the output was cut right after it)
  if (inBlock) {
    const b = blocks.at(-1)!;
    if (b.values.size === 0) {
      throw new ParseError(WHAT, `output ends right after "Average ${b.header} Run" (line ${b.line + 1}) with no figures (truncated?)`);
    }
    closeBlock(b, lines, warn);
  }

  const out: Metric[] = [];
  const main = blocks.find((b) => b.load === 'optimal') ?? blocks[0]!;
  for (const [k, v] of main.values) out.push(metric(k, v.avg));
  for (const b of blocks) {
    for (const [k, v] of b.values) {
      out.push(metric(`${b.load}.${k}`, v.avg));
      if (v.sdev !== undefined) out.push(metric(`${b.load}.${k}Sdev`, v.sdev));
    }
  }
  return out;
}

interface Block {
  load: Load;
  /** 0-based line of the "Average ... Run" header */
  line: number;
  /** the run name as printed, e.g. "Optimal load -j 8" */
  header: string;
  values: Map<string, { avg: number; sdev?: number }>;
}

/**
 * A finished block must have its Elapsed Time (the primary metric); other lines missing
 * (a pasted excerpt) only lose those metrics, and `warn` says which.
 */
function closeBlock(b: Block, lines: string[], warn: Warn): void {
  if (!b.values.has('elapsed')) {
    throw new ParseError(WHAT, `"Average ${b.header} Run" block has no Elapsed Time line`, b.line + 1, lines[b.line]);
  }
  if (b.values.size < BLOCK_LINES) {
    const missing = Object.entries(blockKey).filter(([, k]) => !b.values.has(k)).map(([label]) => label);
    warn(`${WHAT}: line ${b.line + 1}: "Average ${b.header} Run" block has no ${missing.join(', ')}: those ${b.load} metrics are left out`);
  }
}
