// syscall-loop: the cost of one raw getppid() per CPU (syscall-loop.c, built into the
// image as /usr/local/bin/tb-syscall-loop by build-in-image.sh). The purest measure of
// what a tracer adds to each kernel entry/exit it instruments.
import { z } from 'zod';
import type { GuestContext, Workload } from '../../harness/types.js';
import { parseSyscallLoop, syscallLoopMetrics } from './parse.js';

export const syscallLoopParams = z
  .object({
    /**
     * Timed calls per CPU. 200000 is ~0.05 s natively (~175-350 ns per call) and on the
     * order of a few seconds under TCG, where each syscall costs microseconds; it also
     * keeps a per-syscall tracer's output to tens of MB per iteration.
     */
    calls: z.number().int().min(1).default(200_000),
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
    return [`tb-syscall-loop -n ${p.calls} -c ${cpus}`];
  },
  versionCommands: () => ['tb-syscall-loop -n 1 -c 1 | head -n 1'],
  parse: parseSyscallLoop,
  primaryMetric: 'nsPerCall',
  metrics: syscallLoopMetrics,
  perEventCost: { callsMetric: 'calls' },
};
