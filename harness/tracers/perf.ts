// perf (Debian's linux-perf, built from the guest kernel's source): `perf record -a`
// on the pinned tracepoints, one perf process for the whole boot.
//
// Under TCG, kernel text must not change while a workload runs (tracepoint static
// keys are patched when a first probe registers). perf registers its tracepoint
// probes when it opens the events (perf_trace_init -> tracepoint_probe_register),
// which happens once, in setup, with the events disabled (`-D -1`). Per iteration,
// start/stop only send `enable`/`disable` on perf's control fifo (--control): an
// ioctl that adds/removes the event on perf's per-CPU hlist (perf_trace_add/del),
// with no probe (un)registration and no text patching. Each iteration's data is cut
// into its own file by SIGUSR2 (--switch-output=signal) after `disable`.
//
// Two modes, the same per-CPU buffer:
//  - flight-recorder: --overwrite; perf does not read the buffers while the
//    workload runs; SIGUSR2 dumps what they hold (the last ~1 MiB per CPU);
//  - streaming: perf reads its buffers while the workload runs and writes the
//    trace to ctx.traceDir (tmpfs, never the filesystem dbench measures).
//
// Buffer: perf's -m takes a power-of-two number of pages per CPU. 1408 KiB (the
// others' size) is 352 pages; the nearest powers of two are 256 (1024 KiB, -27 %)
// and 512 (2048 KiB, +45 %). 256 pages is the closer one and the size LTTng uses.
import { z } from 'zod';
import { ParseError } from '../errors.js';
import { guestContext } from '../job.js';
import type { GuestContext, ResolvedEvent, TraceStats, TracerDriver } from '../types.js';
import { filterSchema, namePattern } from './native-grammar.js';
import { shellQuote } from './shell.js';

/** 352 pages (1408 KiB) rounded to the nearest power of two (see the header) */
export const DEFAULT_MMAP_PAGES = 256;
/** a flight-recorder CPU whose oldest kept record is later than this after `enable` wrapped (seconds) */
const WRAP_SLACK_S = 0.02;

export const perfOptions = z
  .object({
    /** flight-recorder: --overwrite, dumped per iteration; streaming: written to the tmpfs trace dir while the workload runs */
    mode: z.enum(['flight-recorder', 'streaming']).default('flight-recorder'),
    /** per-CPU ring buffer in 4 KiB pages (perf -m): a power of two */
    mmapPages: z
      .number()
      .int()
      .min(1)
      .max(65536)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two (perf -m rounds anything else up; say which size you mean)')
      .default(DEFAULT_MMAP_PAGES),
  })
  .strict();
export type PerfOptions = z.infer<typeof perfOptions>;

/** perf names tracepoints as tracefs does: `subsystem:event` */
export const perfNativeName = namePattern('perf', /^[A-Za-z0-9_]+:[A-Za-z0-9_]+$/, 'subsystem:event, each of letters, digits and _');

/** perf hands --filter to the kernel's tracepoint filter: the tracefs filter language, as ftrace's */
export const perfNativeFilter = filterSchema({ tracer: 'perf', operators: ['==', '!=', '<=', '>=', '<', '>', '&&', '||', '&', '~', '!'], contextFields: false });

const dir = (ctx: GuestContext) => `${ctx.traceDir}/perf`;

/**
 * Send one command on perf's control fifo and wait for its "ack". perf holds both
 * fifos open read-write, so neither open blocks while it lives; the timeout turns
 * a dead perf into a failed fragment instead of a hung guest.
 */
const control = (d: string, cmd: string) =>
  `timeout 60 sh ${d}/ctl.sh ${cmd} || { echo "perf did not acknowledge '${cmd}' (its log follows)" >&2; cat ${d}/perf.log >&2; exit 1; }`;

/** the control script written at setup: one command in, one "ack" out */
const controlScript = (d: string) => `printf '%s\\n' 'echo "$*" > ${d}/ctl && read -r a < ${d}/ack && [ "$a" = ack ]' > ${d}/ctl.sh`;

/** number of "[ perf record: Dump ... ]" lines: one per file cut by SIGUSR2 */
const dumps = (d: string) => `grep -c '^\\[ perf record: Dump' ${d}/perf.log || true`;

/**
 * The perf record command line, run as `sh -c 'exec perf record ...'` so that `$$`
 * is perf's own pid: every event gets the kernel filter `common_pid != $$` (and'ed
 * with the set's filter), so perf's own writes, page allocations and syscalls are
 * not traced. Without it the streaming mode feeds on itself: every write of trace
 * data fires events that must be written in turn (measured: perf.data growing at
 * 150 MB/s after `disable`, never draining). ftrace's readers are excluded the same
 * way (set_event_notrace_pid).
 */
export function perfRecordArgs(events: ResolvedEvent[], o: PerfOptions, d: string): string[] {
  const notSelf = 'common_pid != $$';
  const ev = events.flatMap((e) => e.native.flatMap((n) => ['-e', shellQuote(n), '--filter', e.filter ? `${shellQuote(`(${e.filter}) && `)}"${notSelf}"` : `"${notSelf}"`]));
  return [
    'exec perf record -a',
    ...ev,
    `-m ${o.mmapPages}`,
    ...(o.mode === 'flight-recorder' ? ['--overwrite'] : []),
    // sample times in CLOCK_MONOTONIC, comparable with /proc/uptime in a guest that never suspends
    '--clockid mono',
    '--switch-output=signal',
    // open (and so register the probes) now, record nothing until `enable`
    '-D -1',
    `--control fifo:${d}/ctl,${d}/ack`,
    `-o ${d}/perf.data`,
  ];
}

/** The collect output, split into its "== name" sections. */
function sections(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let cur: string | undefined;
  for (const line of raw.split('\n')) {
    const head = /^== (\S+)(?: (.*))?$/.exec(line);
    if (head) {
      cur = head[1];
      out[cur] = head[2] !== undefined ? [head[2]] : [];
    } else if (cur !== undefined && line.trim() !== '') out[cur].push(line);
  }
  return out;
}

export interface PerfCpuRecords {
  cpu: number;
  samples: number;
  /** first and last sample time (CLOCK_MONOTONIC seconds) */
  first: number;
  last: number;
}

export interface PerfIteration {
  fileBytes: number;
  /** enable and disable times (CLOCK_MONOTONIC seconds, /proc/uptime) */
  t0: number;
  t1: number;
  perCpu: PerfCpuRecords[];
  perEvent: Record<string, number>;
  /** sum of the PERF_RECORD_LOST records' counts */
  lost: number;
  lostRecords: number;
}

const num = (s: string | undefined, what: string): number => {
  const v = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(v)) throw new ParseError('perf collect', `${what}: not a number: ${JSON.stringify(s)}`);
  return v;
};

/**
 * Parse the collect output: the file's size, the enable/disable times and the
 * summary the guest's awk made of `perf script --show-lost-events -F event,cpu,time`
 * ("cpu N samples first last", "event NAME count", "lost N records").
 */
export function parsePerfCollect(raw: string): PerfIteration {
  const s = sections(raw);
  for (const k of ['file', 'times', 'records']) if (!s[k]) throw new ParseError('perf collect', `no "== ${k}" section (did the dump fail? see tracer-stop.err)`);
  const fileBytes = num(s.file[0], 'file size');
  const [t0, t1] = [num(s.times[0], 'enable time'), num(s.times[1], 'disable time')];
  const perCpu: PerfCpuRecords[] = [];
  const perEvent: Record<string, number> = {};
  let lost = 0;
  let lostRecords = 0;
  s.records.forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu' && f.length === 5) perCpu.push({ cpu: num(f[1], 'cpu'), samples: num(f[2], 'samples'), first: num(f[3], 'first'), last: num(f[4], 'last') });
    else if (f[0] === 'event' && f.length === 3) perEvent[f[1]] = num(f[2], 'event count');
    else if (f[0] === 'lost' && f.length === 3) [lost, lostRecords] = [num(f[1], 'lost'), num(f[2], 'lost records')];
    else throw new ParseError('perf collect', 'unexpected records line', i + 1, line);
  });
  return { fileBytes, t0, t1, perCpu, perEvent, lost, lostRecords };
}

export function perfStats(raw: string, o: PerfOptions): TraceStats {
  const it = parsePerfCollect(raw);
  const kept = it.perCpu.reduce((a, c) => a + c.samples, 0);
  const keptByEvent = Object.values(it.perEvent).reduce((a, b) => a + b, 0);
  if (keptByEvent !== kept) throw new ParseError('perf collect', `per-event samples (${keptByEvent}) differ from per-CPU samples (${kept})`);
  const window = it.t1 - it.t0;
  if (o.mode === 'streaming') {
    return {
      events: kept + it.lost,
      bytes: it.fileBytes,
      lost: it.lost,
      overwritten: 0,
      method:
        'perf record streaming to tmpfs, one file per iteration (SIGUSR2): events = samples in the file + lost (PERF_RECORD_LOST counts), exact; bytes = size of the file perf wrote (its header and side-band COMM/FORK/MMAP records included)',
      perEvent: it.perEvent,
      details: { mode: 'streaming', samples: kept, lostRecords: it.lostRecords, windowS: window, perCpu: it.perCpu },
    };
  }
  // Flight recorder: perf's overwrite buffer keeps no count of what it overwrote. A
  // CPU whose oldest kept sample is later than `enable` wrapped; its rate over the
  // kept span, times the enabled window, estimates what it recorded.
  let events = 0;
  const wrapped: number[] = [];
  for (const c of it.perCpu) {
    const span = c.last - c.first;
    if (c.first > it.t0 + WRAP_SLACK_S && span > 0 && window > span) {
      wrapped.push(c.cpu);
      events += Math.round((c.samples * window) / span);
    } else events += c.samples;
  }
  return {
    events,
    bytes: kept > 0 ? Math.round((it.fileBytes * events) / kept) : 0,
    lost: 0,
    overwritten: events - kept,
    method:
      'perf record --overwrite, dumped per iteration (SIGUSR2): kept samples exact; a CPU whose oldest kept sample is later than enable wrapped, and its events are estimated as kept x enabled window / kept span (perf counts no overwritten records); bytes = dump size x events / kept (estimate)',
    // per-event counts only when nothing was overwritten (exact); after a wrap they would be kept counts, not events
    ...(wrapped.length === 0 ? { perEvent: it.perEvent } : {}),
    details: { mode: 'flight-recorder', keptPerEvent: it.perEvent, keptSamples: kept, dumpBytes: it.fileBytes, wrappedCpus: wrapped, windowS: window, perCpu: it.perCpu },
  };
}

/**
 * `evlist -v` lines: "<name>: type: <n> (tracepoint), size: ..." (perf 6.12; older
 * perf prints no parenthesis); type 2 is PERF_TYPE_TRACEPOINT, perf's own dummy:HG
 * side-band event is type 1 (software).
 */
export function parsePerfEvlist(raw: string): string[] {
  const out: string[] = [];
  for (const line of raw.split('\n')) {
    const m = /^(\S+): type: (\d+)[ ,]/.exec(line.trim());
    if (m && m[2] === '2') out.push(m[1]);
  }
  return out;
}

// awk over `perf script --show-lost-events -F event,cpu,time`: "[001]  12.345678: sched:sched_switch:" and "[001]  12.3: PERF_RECORD_LOST lost 251"
export const RECORDS_AWK = String.raw`{ c = $1; gsub(/[][]/, "", c); c += 0; t = $2; sub(/:$/, "", t); t += 0 } $3 == "PERF_RECORD_LOST" { lost += $5; lr++; next } { e = $3; sub(/:$/, "", e); n[c]++; ev[e]++; if (!(c in a) || t < a[c]) a[c] = t; if (!(c in b) || t > b[c]) b[c] = t } END { for (c in n) printf "cpu %d %d %.6f %.6f\n", c, n[c], a[c], b[c]; for (e in ev) printf "event %s %d\n", e, ev[e]; printf "lost %d %d\n", lost, lr }`;

export const perf: TracerDriver<PerfOptions> = {
  name: 'perf',
  options: perfOptions,
  nativeName: perfNativeName,
  nativeFilter: perfNativeFilter,
  image: { packages: ['linux-perf'], steps: [] },
  // Debian builds linux-perf from the kernel's source package: its version is the kernel's
  versionAxis: 'kernel',
  versionCommands: () => ['echo "perf=$(perf --version)"', 'echo "kernel=$(uname -r)"'],
  parseVersion: (raw) => Object.fromEntries(raw.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
  setup: (events, o, ctx) => {
    const d = dir(ctx);
    return [
      // perf reads tracepoint formats from tracefs
      'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing',
      `rm -rf ${d} && mkdir -p ${d} && mkfifo ${d}/ctl ${d}/ack`,
      controlScript(d),
      // the command line goes through a file: its quoting stays that of one shell
      `cat > ${d}/record.sh << 'EOF'`,
      perfRecordArgs(events, o, d).join(' '),
      'EOF',
      `setsid sh ${d}/record.sh > ${d}/perf.log 2>&1 < /dev/null &`,
      `echo $! > ${d}/pid`,
      // the control loop answers only once every event is open (probes registered) and mapped
      control(d, 'ping'),
    ];
  },
  armedCommands: () => {
    const d = dir(guestContext(1));
    // perf prints `evlist -v` into its log: show only what this command added
    return [`n=$(wc -c < ${d}/perf.log)`, control(d, 'evlist -v'), `tail -c +$((n + 1)) ${d}/perf.log`];
  },
  parseArmed: parsePerfEvlist,
  start: (_o, ctx) => {
    const d = dir(ctx);
    return [control(d, 'enable'), `cut -d' ' -f1 /proc/uptime > ${d}/t0`];
  },
  stop: (_o, ctx) => {
    const d = dir(ctx);
    return [
      `cut -d' ' -f1 /proc/uptime > ${d}/t1`,
      control(d, 'disable'),
      // cut this iteration's data into its own file and wait until perf says it is written
      `n=$(${dumps(d)})`,
      `kill -USR2 $(cat ${d}/pid)`,
      `i=0; while [ "$(${dumps(d)})" -le "$n" ]; do i=$((i + 1)); [ $i -le 1200 ] || { echo 'perf wrote no dump within 120 s' >&2; cat ${d}/perf.log >&2; exit 1; }; sleep 0.1; done`,
    ];
  },
  collect: (_o, ctx) => {
    const d = dir(ctx);
    return [
      `f=$(ls -t ${d}/perf.data.* | head -n 1)`,
      'echo "== file $(stat -c %s "$f")"',
      `echo "== times"; cat ${d}/t0 ${d}/t1`,
      'echo "== records"',
      `perf script --show-lost-events -F event,cpu,time -i "$f" 2> /dev/null | awk '${RECORDS_AWK}'`,
      // the next iteration's file is all the tmpfs needs to hold
      'rm -f "$f"',
    ];
  },
  parseStats: perfStats,
  teardown: (_o, ctx) => {
    const d = dir(ctx);
    return [`p=$(cat ${d}/pid 2>/dev/null) || exit 0`, `kill -INT "$p" 2>/dev/null || true`, `i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done`, `rm -rf ${d}`];
  },
  describe: (o) => ({
    mode:
      o.mode === 'streaming'
        ? 'streaming (perf record writes to tmpfs while the workload runs; one file per iteration)'
        : 'flight-recorder (--overwrite; buffers dumped after each iteration)',
    mmapPages: o.mmapPages,
    bufferKiBPerCpu: o.mmapPages * 4,
    start: 'one perf record per boot, events opened at setup; enable/disable on its control fifo per iteration (no probe registration)',
  }),
};
