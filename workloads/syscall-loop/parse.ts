// Parser for tb-syscall-loop (syscall-loop.c). Its output, one record per line:
//
//   tb-syscall-loop start version=1 syscall=getppid calls_per_cpu=N cpus=C
//   tb-syscall-loop cpu=K calls=N ns=T ns_per_call=X.XXX         one per CPU
//   tb-syscall-loop total cpus=C calls=N*C ns_per_call_mean=X.XXX ns_per_call_max=X.XXX
//
// ns are CLOCK_MONOTONIC nanoseconds around the timed calls of one pinned thread.
// Metrics: nsPerCall (mean over CPUs of each CPU's ns per call; PRIMARY), nsPerCallMax
// (slowest CPU), calls (total timed calls over all CPUs: per-event cost is computed
// elsewhere as tracer events / calls), cpus. The parser recomputes nothing from the
// per-CPU lines except to check that the summary agrees with them.
import { ParseError } from '../../harness/errors.js';
import type { Better, Metric } from '../../harness/types.js';

export const syscallLoopMetrics: Record<string, { unit: string; better: Better }> = {
  nsPerCall: { unit: 'ns', better: 'lower' },
  nsPerCallMax: { unit: 'ns', better: 'lower' },
  calls: { unit: 'count', better: 'higher' },
  cpus: { unit: 'count', better: 'higher' },
};

const WHAT = 'syscall-loop';
const reCpu = /^tb-syscall-loop cpu=(\d+) calls=(\d+) ns=(\d+) ns_per_call=([\d.]+)\s*$/;
const reTotal = /^tb-syscall-loop total cpus=(\d+) calls=(\d+) ns_per_call_mean=([\d.]+) ns_per_call_max=([\d.]+)\s*$/;
const reStart = /^tb-syscall-loop start version=(\d+) syscall=(\w+) calls_per_cpu=(\d+) cpus=(\d+)\s*$/;

export function parseSyscallLoop(raw: string): Metric[] {
  const lines = raw.split(/\r?\n/);
  const fail = (i: number, msg: string): never => {
    throw new ParseError(WHAT, msg, i + 1, lines[i]);
  };
  let cpuLines = 0;
  let cpuCalls = 0;
  let total: { cpus: number; calls: number; mean: number; max: number; i: number } | undefined;

  lines.forEach((line, i) => {
    if (line.includes('error:')) fail(i, 'the benchmark reported an error');
    if (!line.startsWith('tb-syscall-loop ')) return;
    let m: RegExpExecArray | null;
    if (reStart.test(line)) return;
    if ((m = reCpu.exec(line))) {
      if (total) fail(i, 'per-CPU line after the total line');
      cpuLines++;
      cpuCalls += Number(m[2]);
    } else if ((m = reTotal.exec(line))) {
      if (total) fail(i, 'second total line');
      total = { cpus: Number(m[1]), calls: Number(m[2]), mean: Number(m[3]), max: Number(m[4]), i };
    } else {
      fail(i, 'malformed tb-syscall-loop line');
    }
  });

  if (!total) throw new ParseError(WHAT, 'no total line (run did not finish?)');
  const t = total;
  if (t.cpus !== cpuLines) fail(t.i, `total says ${t.cpus} CPUs but ${cpuLines} per-CPU lines were printed`);
  if (t.calls !== cpuCalls) fail(t.i, `total says ${t.calls} calls but the per-CPU lines add up to ${cpuCalls}`);
  if (!(t.mean > 0)) fail(t.i, `ns per call ${t.mean} is not a measurement`);

  const metric = (name: string, value: number): Metric => ({ name, value, ...syscallLoopMetrics[name]! });
  return [metric('nsPerCall', t.mean), metric('nsPerCallMax', t.max), metric('calls', t.calls), metric('cpus', t.cpus)];
}
