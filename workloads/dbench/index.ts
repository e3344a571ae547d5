// dbench: the Samba file-server load (NetBench loadfile) on the scratch filesystem.
// The guest runs Debian's dbench 4.0 tarball, which has no --machine-readable, so the
// human-readable summary is what we save and parse (workloads/_shared/dbench-output.ts).
import { z } from 'zod';
import { shellQuote as q } from '../../harness/tracers/shell.js';
import type { GuestContext, Workload } from '../../harness/types.js';
import { dbenchMetrics, parseDbenchOutput } from '../_shared/dbench-output.js';

export const dbenchParams = z
  .object({
    /** number of dbench clients (processes) */
    clients: z.number().int().min(1).default(2),
    /** execute-phase length; dbench adds its own warm-up (timelimit/5) and cleanup */
    seconds: z.number().int().min(1).default(5),
    /** Debian installs the NetBench loadfile here */
    loadfile: z.string().min(1).default('/usr/share/dbench/client.txt'),
  })
  .strict();
export type DbenchParams = z.infer<typeof dbenchParams>;

/**
 * Wall-clock cap for one dbench/tbench process. Generous on purpose: warm-up and cleanup
 * under TCG emulation take several times the execute phase. It only turns a hang into a
 * failed iteration (tbench 4.0 spins forever in "prepared for launch" when a client
 * cannot connect) instead of burning the whole boot timeout.
 */
export const dbenchTimeoutS = (seconds: number): number => 3 * seconds + 300;

export const dbench: Workload<DbenchParams> = {
  name: 'dbench',
  description: 'dbench 4.0 file-server load on the ext4 scratch disk (throughput in MB/s)',
  params: dbenchParams,
  run(p: DbenchParams, ctx: GuestContext): string[] {
    const dir = `${ctx.scratchDir}/dbench`;
    return [
      `mkdir -p ${q(dir)}`,
      `timeout -k 10 ${dbenchTimeoutS(p.seconds)} dbench -t ${p.seconds} -c ${q(p.loadfile)} -D ${q(dir)} ${p.clients}`,
    ];
  },
  versionCommands: () => [`dpkg-query -W -f '\${Version}\\n' dbench`],
  parse: (raw: string, warn?: (message: string) => void) => parseDbenchOutput(raw, 'dbench', warn),
  primaryMetric: 'throughput',
  metrics: dbenchMetrics,
};
