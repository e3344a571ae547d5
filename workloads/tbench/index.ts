// tbench: dbench's network twin. tbench_srv plays the file server over TCP (port 7003)
// and tbench drives the same loadfile against it over loopback, so this measures the
// network stack and scheduler rather than the filesystem. Same summary as dbench.
import { z } from 'zod';
import { shellQuote as q } from '../../harness/tracers/shell.js';
import type { GuestContext, Workload } from '../../harness/types.js';
import { dbenchMetrics, parseDbenchOutput } from '../_shared/dbench-output.js';
import { dbenchParams, dbenchTimeoutS } from '../dbench/index.js';

/** tbench takes dbench's parameters: clients, execute seconds and the same loadfile */
export const tbenchParams = dbenchParams;
export type TbenchParams = z.infer<typeof tbenchParams>;

/** /tmp is tmpfs in the guest; the root filesystem is read-only. */
const PID_FILE = '/tmp/tb-tbench-srv.pid';
const LOG_FILE = '/tmp/tb-tbench-srv.log';
/**
 * A listening socket on port 7003 (0x1B5B) in /proc/net/tcp: local port :1B5B, remote
 * 00000000:0000, state 0A (TCP_LISTEN). tbench_srv binds INADDR_ANY. Matched with the
 * shell's read and case: grep, cat and sleep each cost an exec, 0.05-0.1 s under TCG.
 */
const LISTENING = `listening() { while read -r _ l r s _; do case "$l/$r/$s" in *:1B5B/00000000:0000/0A) return 0 ;; esac; done < /proc/net/tcp; return 1; }`;
/** 400 tries x 0.05 s = 20 s: tbench_srv listens at once natively, within a second under TCG. */
const WAIT_TRIES = 400;

export const tbench: Workload<TbenchParams> = {
  name: 'tbench',
  description: 'tbench 4.0 over loopback against tbench_srv (throughput in MB/s)',
  params: tbenchParams,
  setup: (): string[] => [
    `tbench_srv > ${LOG_FILE} 2>&1 &`,
    `srv=$!; echo $srv > ${PID_FILE}`,
    LISTENING,
    `i=0; until listening; do ` +
      `kill -0 $srv || { echo "tbench_srv exited: $(cat ${LOG_FILE})" >&2; exit 1; }; ` +
      `i=$((i + 1)); [ $i -le ${WAIT_TRIES} ] || { echo 'tbench_srv is not listening on port 7003' >&2; exit 1; }; ` +
      `sleep 0.05; done`,
    // The first TCP connection of a boot fires the network stack's DO_ONCE secrets
    // (net_get_random_once), whose static keys are then switched off from a work item:
    // live kernel text patching, which multi-threaded TCG can race into "Oops: int3"
    // (docs/reliability.md, "TCG oops: root cause"). One connection here, outside every
    // iteration, and a pause for that work item (it runs within milliseconds; 0.1 s), so no
    // workload runs during it. bash's /dev/tcp connects and closes with one process: a
    // one-second tbench did the same in ~1.5 s of host time per boot under TCG.
    `bash -c 'exec 3<>/dev/tcp/127.0.0.1/7003'`,
    'sleep 0.1',
  ],
  run(p: TbenchParams, _ctx: GuestContext): string[] {
    return [`timeout -k 10 ${dbenchTimeoutS(p.seconds)} tbench -t ${p.seconds} -c ${q(p.loadfile)} ${p.clients} 127.0.0.1`];
  },
  // builtins only (read, kill, a truncating redirect): cat and rm were 0.1-0.2 s under TCG
  teardown: (): string[] => [
    `if [ -s ${PID_FILE} ]; then read -r p < ${PID_FILE}; kill "$p" 2>/dev/null || true; : > ${PID_FILE}; fi`,
  ],
  versionCommands: () => [`dpkg-query -W -f '\${Version}\\n' dbench`],
  parse: (raw: string, warn?: (message: string) => void) => parseDbenchOutput(raw, 'tbench', warn),
  primaryMetric: 'throughput',
  metrics: dbenchMetrics,
};
