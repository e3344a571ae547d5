// pipe-pingpong: the cost of one round trip of a byte between two tasks pinned to
// different CPUs over a pair of pipes (pingpong.c). Each round trip fires the
// scheduler's wake-up and switch events (sched_waking, sched_switch) besides 4
// system calls, so beside syscall-loop (sys_enter/sys_exit only) it resolves what a
// tracer costs per scheduler event.
//
// No image change: `setup` writes pingpong.c into the guest's /tmp (tmpfs; the root
// is read-only) with a quoted heredoc and compiles it with the image's gcc, which
// the image has for kernbench. The source's hash is part of the version record.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { GuestContext, Workload } from '../../harness/types.js';
import { parsePingpong, pingpongMetrics } from './parse.js';

/** the C source, read once: written verbatim into the guest by `setup` */
export const PINGPONG_SOURCE = readFileSync(new URL('./pingpong.c', import.meta.url), 'utf8');
const SOURCE_SHA = createHash('sha256').update(PINGPONG_SOURCE).digest('hex').slice(0, 16);
const DIR = '/tmp/tb-pingpong';
const BIN = `${DIR}/tb-pingpong`;
const EOF_MARK = 'TB_PINGPONG_SOURCE_END';
if (PINGPONG_SOURCE.split('\n').includes(EOF_MARK)) throw new Error(`pingpong.c contains the heredoc delimiter ${EOF_MARK}`);

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
  })
  .strict();
export type PingpongParams = z.infer<typeof pingpongParams>;

export const pipePingpong: Workload<PingpongParams> = {
  name: 'pipe-pingpong',
  description: 'a byte bounced between two tasks pinned to CPUs 0 and 1 over two pipes (ns per round trip)',
  params: pingpongParams,
  setup: (): string[] => [
    `mkdir -p ${DIR}`,
    `cat > ${DIR}/pingpong.c <<'${EOF_MARK}'`,
    ...PINGPONG_SOURCE.replace(/\n$/, '').split('\n'),
    EOF_MARK,
    `gcc -O2 -Wall -o ${BIN} ${DIR}/pingpong.c`,
  ],
  run(p: PingpongParams, ctx: GuestContext): string[] {
    if (ctx.cpus < 2) return [`echo 'tb-pingpong: error: needs 2 CPUs, the guest has ${ctx.cpus}' >&2`, 'exit 1'];
    return [`${BIN} -n ${p.roundTrips} -k ${p.batches} -w ${p.warmup} -a 0 -b 1`];
  },
  teardown: (): string[] => [`rm -rf ${DIR}`],
  versionCommands: (): string[] => [`echo "tb-pingpong source_sha256=${SOURCE_SHA} gcc=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"`],
  parse: parsePingpong,
  primaryMetric: 'nsPerRoundTrip',
  metrics: pingpongMetrics,
  perEventCost: { callsMetric: 'roundTripsMade', events: ['sched_switch', 'sched_waking', 'sys_enter', 'sys_exit'] },
};
