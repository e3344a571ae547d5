// Parser for tb-pingpong (pingpong.c; keep in sync). Its output:
//
//   tb-pingpong start version=1 cpu_a=A cpu_b=B round_trips=N batches=K warmup=W
//   tb-pingpong batch=I round_trips=N ns=T ns_per_rt=X.XXX      one per batch
//   tb-pingpong total round_trips_made=W+K*N
//
// Metrics: nsPerRoundTrip (PRIMARY: median over the batches of one iteration, so one
// batch disturbed by the host does not move the iteration's value), nsPerRoundTripMean
// (mean of the batches), batchCv (spread of the batches: the in-boot noise),
// roundTripsMade (every round trip including the untimed warm-up: the tracer counts
// the events of all of them, so events per round trip divide by this).
import { median, mean, sampleStandardDeviation } from 'simple-statistics';
import { ParseError } from '../../harness/errors.js';
import type { Better, Metric } from '../../harness/types.js';

export const pingpongMetrics: Record<string, { unit: string; better: Better }> = {
  nsPerRoundTrip: { unit: 'ns', better: 'lower' },
  nsPerRoundTripMean: { unit: 'ns', better: 'lower' },
  batchCv: { unit: 'ratio', better: 'lower' },
  roundTripsMade: { unit: 'count', better: 'higher' },
};

const WHAT = 'pipe-pingpong';
const reStart = /^tb-pingpong start version=(\d+) cpu_a=(\d+) cpu_b=(\d+) round_trips=(\d+) batches=(\d+) warmup=(\d+)\s*$/;
const reBatch = /^tb-pingpong batch=(\d+) round_trips=(\d+) ns=(\d+) ns_per_rt=([\d.]+)\s*$/;
const reTotal = /^tb-pingpong total round_trips_made=(\d+)\s*$/;

export function parsePingpong(raw: string): Metric[] {
  const lines = raw.split(/\r?\n/);
  const fail = (i: number, msg: string): never => {
    throw new ParseError(WHAT, msg, i + 1, lines[i]);
  };
  let start: { n: number; k: number; w: number; i: number } | undefined;
  const perRt: number[] = [];
  let made: { v: number; i: number } | undefined;
  lines.forEach((line, i) => {
    if (line.includes('error:')) fail(i, 'the benchmark reported an error');
    if (!line.startsWith('tb-pingpong ')) return;
    let m: RegExpExecArray | null;
    if ((m = reStart.exec(line))) {
      if (start) fail(i, 'second start line');
      start = { n: Number(m[4]), k: Number(m[5]), w: Number(m[6]), i };
    } else if ((m = reBatch.exec(line))) {
      if (!start) fail(i, 'batch line before the start line');
      if (made) fail(i, 'batch line after the total line');
      if (Number(m[1]) !== perRt.length + 1) fail(i, `batch ${m[1]} out of order (expected ${perRt.length + 1})`);
      if (Number(m[2]) !== start!.n) fail(i, `batch of ${m[2]} round trips, the start line says ${start!.n}`);
      // recompute from the integer ns: the printed quotient is rounded to 3 decimals
      perRt.push(Number(m[3]) / Number(m[2]));
    } else if ((m = reTotal.exec(line))) {
      if (made) fail(i, 'second total line');
      made = { v: Number(m[1]), i };
    } else {
      fail(i, 'malformed tb-pingpong line');
    }
  });
  if (!start) throw new ParseError(WHAT, 'no start line');
  if (!made) throw new ParseError(WHAT, 'no total line (run did not finish?)');
  if (perRt.length !== start.k) fail(made.i, `start line says ${start.k} batches, ${perRt.length} were printed`);
  if (made.v !== start.w + start.k * start.n) fail(made.i, `round_trips_made ${made.v} is not warmup + batches x round_trips = ${start.w + start.k * start.n}`);
  if (!perRt.every((x) => x > 0)) fail(made.i, 'a batch took no time: not a measurement');
  const metric = (name: string, value: number): Metric => ({ name, value, ...pingpongMetrics[name]! });
  const mu = mean(perRt);
  return [
    metric('nsPerRoundTrip', median(perRt)),
    metric('nsPerRoundTripMean', mu),
    metric('batchCv', perRt.length >= 2 ? sampleStandardDeviation(perRt) / mu : 0),
    metric('roundTripsMade', made.v),
  ];
}
