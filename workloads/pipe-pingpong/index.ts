// pipe-pingpong: the cost of one round trip of a byte between two tasks pinned to
// different CPUs over a pair of pipes (pingpong.c). Each round trip fires the
// scheduler's wake-up and switch events (sched_waking, sched_switch) besides 4
// system calls, so beside syscall-loop (sys_enter/sys_exit only) it resolves what a
// tracer costs per scheduler event.
//
// Built into the image as /usr/local/bin/tb-pingpong by build-in-image.sh (it
// used to be compiled in every boot: ~4.5 s of gcc under TCG). The source's hash
// is part of the version record and of the image key.
import { z } from 'zod';
import type { GuestContext, Workload } from '../../harness/types.js';
import { parsePingpong, pingpongMetrics } from './parse.js';

const BIN = '/usr/local/bin/tb-pingpong';

export const pingpongParams = z
  .object({
    /**
     * Timed round trips per batch. Under TCG one round trip costs ~250 us on a quiet
     * host (two wake-ups of an idle vCPU; measured in the quick suite, fixtures/03),
     * so 2000 x 5 batches is ~2.5 s per iteration; natively it is milliseconds.
     */
    roundTrips: z.number().int().min(1).default(2000),
    /** timed batches per iteration; the parser takes their median (a robust in-boot estimate) */
    batches: z.number().int().min(1).default(5),
    /** untimed round trips before the first batch (fault-in, CPU wake-up paths warm) */
    warmup: z.number().int().min(0).default(500),
    /**
     * The CPUs the two tasks are pinned to. [0, 1] (default): every wake-up crosses
     * CPUs (an IPI wakes an idle CPU). [0, 0]: both on one CPU, each round trip two
     * switches on it, the same events without the IPI; under single-threaded TCG,
     * where the guest's vCPUs take turns on one host thread, a cross-CPU round trip
     * waits for the other vCPU's turn and varied ~30 % between boots.
     */
    cpus: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([0, 1]),
  })
  .strict();
export type PingpongParams = z.infer<typeof pingpongParams>;

export const pipePingpong: Workload<PingpongParams> = {
  name: 'pipe-pingpong',
  description: 'a byte bounced between two pinned tasks (CPUs 0 and 1 by default) over two pipes (ns per round trip)',
  params: pingpongParams,
  run(p: PingpongParams, ctx: GuestContext): string[] {
    const need = Math.max(...p.cpus) + 1;
    if (ctx.cpus < need) return [`echo 'tb-pingpong: error: pinned to CPUs ${p.cpus.join(' and ')}, the guest has ${ctx.cpus}' >&2`, 'exit 1'];
    return [`${BIN} -n ${p.roundTrips} -k ${p.batches} -w ${p.warmup} -a ${p.cpus[0]} -b ${p.cpus[1]}`];
  },
  // what the image step recorded: the source's hash and the gcc that built it
  versionCommands: (): string[] => [`echo "tb-pingpong $(tr '\\n' ' ' < /usr/share/tracebench/pipe-pingpong.info)"`],
  parse: parsePingpong,
  primaryMetric: 'nsPerRoundTrip',
  metrics: pingpongMetrics,
  perEventCost: { callsMetric: 'roundTripsMade', events: ['sched_switch', 'sched_waking', 'sys_enter', 'sys_exit'] },
};
