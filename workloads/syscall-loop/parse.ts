// Parser for tb-syscall-loop (syscall-loop.c). One iteration runs the program once per
// batch (index.ts), so its output is one or more blocks of, one record per line:
//
//   tb-syscall-loop start version=1 syscall=getppid calls_per_cpu=N cpus=C
//   tb-syscall-loop cpu=K calls=N ns=T ns_per_call=X.XXX         one per CPU
//   tb-syscall-loop total cpus=C calls=N*C ns_per_call_mean=X.XXX ns_per_call_max=X.XXX
//
// ns are CLOCK_MONOTONIC nanoseconds around the timed calls of one pinned thread.
// Metrics: nsPerCall (PRIMARY: median over the batches of each batch's mean over CPUs
// of ns per call — one batch disturbed by the host cannot move it), nsPerCallMean
// (mean of the batches), nsPerCallMax (slowest CPU of any batch), batchCv (spread of
// the batches), calls (timed calls over all CPUs and batches), callsMade (every
// getppid the program made: timed calls plus each thread's untimed warm-up of
// max(N/10, 1000) calls, see syscall-loop.c `work`; the tracer records the warm-up
// too, so events per call divide by this), cpus. The parser checks each summary
// against its per-CPU lines.
import { mean, median, sampleStandardDeviation } from 'simple-statistics';
import { ParseError } from '../../harness/errors.js';
import type { Better, Metric } from '../../harness/types.js';

export const syscallLoopMetrics: Record<string, { unit: string; better: Better }> = {
  nsPerCall: { unit: 'ns', better: 'lower' },
  nsPerCallMean: { unit: 'ns', better: 'lower' },
  nsPerCallMax: { unit: 'ns', better: 'lower' },
  batchCv: { unit: 'ratio', better: 'lower' },
  calls: { unit: 'count', better: 'higher' },
  callsMade: { unit: 'count', better: 'higher' },
  cpus: { unit: 'count', better: 'higher' },
};

const WHAT = 'syscall-loop';
const reCpu = /^tb-syscall-loop cpu=(\d+) calls=(\d+) ns=(\d+) ns_per_call=([\d.]+)\s*$/;
const reTotal = /^tb-syscall-loop total cpus=(\d+) calls=(\d+) ns_per_call_mean=([\d.]+) ns_per_call_max=([\d.]+)\s*$/;
const reStart = /^tb-syscall-loop start version=(\d+) syscall=(\w+) calls_per_cpu=(\d+) cpus=(\d+)\s*$/;

/** untimed warm-up calls of one thread before timing, as syscall-loop.c computes it */
export const warmupCalls = (callsPerCpu: number) => Math.max(Math.floor(callsPerCpu / 10), 1000);

interface Batch { perCpu: number; cpus: number; cpuLines: number; cpuCalls: number; total?: { calls: number; mean: number; max: number } }

export function parseSyscallLoop(raw: string): Metric[] {
  const lines = raw.split(/\r?\n/);
  const fail = (i: number, msg: string): never => {
    throw new ParseError(WHAT, msg, i + 1, lines[i]);
  };
  const batches: Batch[] = [];

  lines.forEach((line, i) => {
    if (line.includes('error:')) fail(i, 'the benchmark reported an error');
    if (!line.startsWith('tb-syscall-loop ')) return;
    const cur = batches[batches.length - 1];
    let m: RegExpExecArray | null;
    if ((m = reStart.exec(line))) {
      if (cur && !cur.total) fail(i, 'start line before the previous run printed its total line');
      batches.push({ perCpu: Number(m[3]), cpus: Number(m[4]), cpuLines: 0, cpuCalls: 0 });
    } else if ((m = reCpu.exec(line))) {
      if (!cur || cur.total) fail(i, 'per-CPU line outside a run (no start line before it, or after the total line)');
      cur!.cpuLines++;
      cur!.cpuCalls += Number(m[2]);
    } else if ((m = reTotal.exec(line))) {
      if (!cur) fail(i, 'total line without a start line');
      if (cur!.total) fail(i, 'second total line for one run');
      const b = cur!;
      const t = { calls: Number(m[2]), mean: Number(m[3]), max: Number(m[4]) };
      if (Number(m[1]) !== b.cpus) fail(i, `total says ${m[1]} CPUs, the start line ${b.cpus}`);
      if (b.cpuLines !== b.cpus) fail(i, `total says ${b.cpus} CPUs but ${b.cpuLines} per-CPU lines were printed`);
      if (t.calls !== b.cpuCalls) fail(i, `total says ${t.calls} calls but the per-CPU lines add up to ${b.cpuCalls}`);
      if (!(t.mean > 0)) fail(i, `ns per call ${t.mean} is not a measurement`);
      b.total = t;
    } else {
      fail(i, 'malformed tb-syscall-loop line');
    }
  });

  const done = batches.filter((b) => b.total);
  if (done.length === 0 || done.length !== batches.length) throw new ParseError(WHAT, 'no total line for a run (run did not finish?)');
  const per = done.map((b) => b.total!.mean);
  const mu = mean(per);
  const metric = (name: string, value: number): Metric => ({ name, value, ...syscallLoopMetrics[name]! });
  return [
    metric('nsPerCall', median(per)),
    metric('nsPerCallMean', mu),
    metric('nsPerCallMax', Math.max(...done.map((b) => b.total!.max))),
    metric('batchCv', per.length >= 2 ? sampleStandardDeviation(per) / mu : 0),
    metric('calls', done.reduce((a, b) => a + b.total!.calls, 0)),
    metric('callsMade', done.reduce((a, b) => a + b.cpus * (b.perCpu + warmupCalls(b.perCpu)), 0)),
    metric('cpus', done[0]!.cpus),
  ];
}
