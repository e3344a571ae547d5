// syscall-loop: the cost of one raw getppid() per CPU (syscall-loop.c, built into the
// image as /usr/local/bin/tb-syscall-loop by build-in-image.sh). The purest measure of
// what a tracer adds to each kernel entry/exit it instruments. One iteration runs the
// program `batches` times (the image's binary times one batch per run; running it
// several times needs no image change) and reports the median batch.
import { z } from 'zod';
import type { GuestContext, Workload } from '../../harness/types.js';
import { parseSyscallLoop, syscallLoopMetrics } from './parse.js';

export const syscallLoopParams = z
  .object({
    /**
     * Timed calls per CPU in one batch. Under TCG 200000 calls take ~0.5 s (each
     * syscall costs microseconds); natively ~0.05 s (~175-350 ns per call).
     */
    calls: z.number().int().min(1).default(200_000),
    /**
     * Runs of tb-syscall-loop per measured iteration. The parser takes the median of
     * their ns/call: a robust in-boot estimate that one disturbed batch cannot move
     * (within one boot ns/call varied with CV ~20 % between single runs under TCG).
     * 5 x 200000 calls is ~2.5 s per iteration under TCG.
     */
    batches: z.number().int().min(1).default(5),
    /** CPUs to run on (one pinned thread each); 'all' = every CPU the guest has */
    cpus: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
  })
  .strict();
export type SyscallLoopParams = z.infer<typeof syscallLoopParams>;

export const syscallLoop: Workload<SyscallLoopParams> = {
  name: 'syscall-loop',
  description: 'raw getppid() in a loop on one pinned thread per CPU (ns per call)',
  params: syscallLoopParams,
  run(p: SyscallLoopParams, ctx: GuestContext): string[] {
    const cpus = p.cpus === 'all' ? ctx.cpus : p.cpus;
    // each run warms up on its own (a tenth of its calls, untimed) before timing
    return [`for b in $(seq ${p.batches}); do tb-syscall-loop -n ${p.calls} -c ${cpus}; done`];
  },
  versionCommands: () => ['tb-syscall-loop -n 1 -c 1 | head -n 1'],
  parse: parseSyscallLoop,
  primaryMetric: 'nsPerCall',
  metrics: syscallLoopMetrics,
  perEventCost: { callsMetric: 'callsMade', events: ['sys_enter', 'sys_exit'] },
};
