// ebpf: the pinned tracepoints attached by BPF programs that record each event's
// payload into BPF output buffers drained by a user-space reader, through bpftrace
// (Debian's package, 0.23 in trixie). bpftrace's printf output goes through a BPF
// perf-event array (one ring per CPU, bpf_perf_event_output; its perf_rb_pages
// setting), and bpftrace reports what did not fit as "Lost N events".
// Why bpftrace and not a libbpf program built in the image: its `printf` is exactly "copy the fields into the ring buffer, let user space
// format them", the way people trace with eBPF today, with a drop counter of its
// own, and nothing to compile or maintain here. The program is generated in the
// guest from each event's tracefs `format`, so every field of the payload (fixed
// fields, char arrays, __data_loc strings, arrays) is copied, plus the timestamp
// and CPU the other tracers record too.
//
// Under TCG kernel text must not change while a workload runs: bpftrace attaches
// every program (tracepoint_probe_register) once, at setup, and keeps them
// attached for the boot. Per iteration, start/stop only flip a one-entry BPF map
// (`@on`, updated with bpftool) that every program checks first: no attach, no
// detach, no text patching. While off, each hit costs a program run and a map
// lookup, as ktrace's `enabled` check does. While on, @on holds bpftrace's pid,
// whose own events are skipped (the reader does not trace itself).
import { z } from 'zod';
import { ParseError } from '../errors.js';
import type { GuestContext, ResolvedEvent, TraceStats, TracerDriver } from '../types.js';
import { namePattern } from './native-grammar.js';
import { shellQuote } from './shell.js';

const T = '/sys/kernel/tracing';

export const ebpfOptions = z
  .object({
    /**
     * bpftrace's output buffers (a BPF perf-event array: one ring per CPU), in 4 KiB pages per CPU (BPFTRACE_PERF_RB_PAGES).
     * 256 pages = 1024 KiB, perf's and LTTng's size (the nearest power of two to 1408 KiB).
     */
    rbPagesPerCpu: z
      .number()
      .int()
      .min(1)
      .max(65536)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(256),
  })
  .strict();
export type EbpfOptions = z.infer<typeof ebpfOptions>;

/** bpftrace attaches `tracepoint:subsystem:event`; the name is tracefs's */
export const ebpfNativeName = namePattern('ebpf', /^[A-Za-z0-9_]+:[A-Za-z0-9_]+$/, 'subsystem:event, each of letters, digits and _');

const dir = (ctx: GuestContext) => `${ctx.traceDir}/ebpf`;

/**
 * awk over one event's tracefs `format`: prints the bpftrace probe that records
 * it. Fields: __data_loc strings via str(), char arrays as strings, other arrays
 * element by element, everything else as a 64-bit integer.
 */
export const PROBE_AWK = String.raw`/^[ \t]*field:/ {
  line = $0; sub(/^[ \t]*field:/, "", line); decl = line; sub(/;.*/, "", decl)
  n = split(decl, w, " "); name = w[n]
  if (name ~ /^common_/) next
  if (decl ~ /^__data_loc/) { f = f " %s"; a = a ", str(args." name ")"; next }
  if (name ~ /\[/) {
    cnt = name; sub(/^[^[]*\[/, "", cnt); sub(/\].*/, "", cnt); sub(/\[.*/, "", name)
    if (decl ~ /char /) { f = f " %s"; a = a ", args." name; next }
    for (i = 0; i < cnt + 0; i++) { f = f " %lld"; a = a ", (int64)args." name "[" i "]" }
    next
  }
  f = f " %lld"; a = a ", (int64)args." name
}
END { printf "tracepoint:%s { $o = @on[0]; if ($o != 0 && pid != $o) { printf(\"%%llu %%d %s%s\\n\", nsecs, cpu%s); } }\n", ev, ev, f, a }`;

/** The setup lines that write the program: one probe per native name, from its format file. */
function programLines(events: ResolvedEvent[], d: string): string[] {
  const names = events.flatMap((e) => e.native);
  return [
    `echo 'BEGIN { @on[0] = 0; }' > ${d}/prog.bt`,
    ...names.map((n) => {
      const [sub, ev] = n.split(':');
      return `awk -v ev=${shellQuote(n)} '${PROBE_AWK}' ${T}/events/${shellQuote(sub!)}/${shellQuote(ev!)}/format >> ${d}/prog.bt`;
    }),
  ];
}

/**
 * Switch recording through bpftool: key 0; the value is 0 (off) or bpftrace's own
 * pid (on), as 8 little-endian bytes. The programs skip events of that pid, so
 * the reader's own writes, page allocations and syscalls are not traced (as
 * ftrace's readers are in set_event_notrace_pid and perf by its common_pid filter).
 */
const setOn = (d: string, on: boolean) =>
  `bpftool map update id $(cat ${d}/mapid) key 0 0 0 0 0 0 0 0 value $(awk -v p=${on ? `$(cat ${d}/pid)` : 0} 'BEGIN { for (i = 0; i < 8; i++) { printf "%d ", p % 256; p = int(p / 256) } }')`;

/** wait until the reader has written everything the ring buffer held: the file stops growing for 0.5 s */
const drain = (d: string) =>
  `p=-1; s=$(stat -c %s ${d}/trace.txt); i=0; while [ "$s" != "$p" ] && [ $i -lt 600 ]; do p=$s; sleep 0.5; s=$(stat -c %s ${d}/trace.txt); i=$((i + 1)); done`;

export interface EbpfIteration {
  bytes: number;
  perEvent: Record<string, number>;
  lines: number;
  lost: number;
  badLines: number;
}

/** Parse the collect output ("bytes N", "event NAME N", "lines N", "bad N", "lost N"). */
export function parseEbpfCollect(raw: string): EbpfIteration {
  const r: Partial<EbpfIteration> & { perEvent: Record<string, number> } = { perEvent: {} };
  raw.split('\n').forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') return;
    const v = Number(f[f.length - 1]);
    if (!Number.isInteger(v) || v < 0) throw new ParseError('ebpf collect', 'not a count', i + 1, line);
    if (f[0] === 'event' && f.length === 3) r.perEvent[f[1]] = v;
    else if (f[0] === 'bytes' && f.length === 2) r.bytes = v;
    else if (f[0] === 'lines' && f.length === 2) r.lines = v;
    else if (f[0] === 'bad' && f.length === 2) r.badLines = v;
    else if (f[0] === 'lost' && f.length === 2) r.lost = v;
    else throw new ParseError('ebpf collect', 'unexpected line', i + 1, line);
  });
  for (const k of ['bytes', 'lines', 'badLines', 'lost'] as const) if (r[k] === undefined) throw new ParseError('ebpf collect', `no "${k === 'badLines' ? 'bad' : k}" line`);
  return r as EbpfIteration;
}

export function ebpfStats(raw: string): TraceStats {
  const it = parseEbpfCollect(raw);
  const recorded = Object.values(it.perEvent).reduce((a, b) => a + b, 0);
  if (it.badLines > 0) throw new ParseError('ebpf collect', `${it.badLines} output lines are not "<ns> <cpu> <subsystem:event> ..." records (bpftrace printed something else into the trace)`);
  return {
    events: recorded + it.lost,
    bytes: it.bytes,
    lost: it.lost,
    overwritten: 0,
    method:
      'bpftrace printf into its BPF output buffers (perf-event array, one ring per CPU), drained by bpftrace to tmpfs as text: events = records read + lost (bpftrace\'s drop count, its "Lost N events" lines), exact; bytes = text bytes the reader wrote (formatted, not the binary ring-buffer records)',
    perEvent: it.perEvent,
    details: { lines: it.lines },
  };
}

/** `bpftool perf` lines: "pid 123  fd 9: prog_id 45  tracepoint  sched_switch" mapped back to subsystem:event by the guest */
export function parseEbpfArmed(raw: string): string[] {
  return raw
    .split('\n')
    .map((l) => /^armed (\S+)$/.exec(l.trim())?.[1])
    .filter((x): x is string => x !== undefined);
}

// awk over the iteration's records: "<ns> <cpu> <subsystem:event> fields..."
// bpftrace writes "Lost N events" into the same output when its perf buffers were full
const COUNT_AWK = String.raw`$1 ~ /^[0-9]+$/ && $3 ~ /^[A-Za-z0-9_]+:[A-Za-z0-9_]+$/ { n[$3]++; next } /^Lost [0-9]+ events/ { lost += $2; next } { bad++ } END { for (e in n) printf "event %s %d\n", e, n[e]; printf "bad %d\nlost %d\n", bad + 0, lost + 0 }`;

export const ebpf: TracerDriver<EbpfOptions> = {
  name: 'ebpf',
  options: ebpfOptions,
  nativeName: ebpfNativeName,
  // bpftrace predicates are not tracefs filters; none is needed by the pinned set
  nativeFilter: null,
  image: { packages: ['bpftrace', 'bpftool'], steps: [] },
  versionCommands: () => ['echo "bpftrace=$(bpftrace --version)"', 'echo "bpftool=$(bpftool version | head -n 1)"', 'echo "kernel=$(uname -r)"'],
  parseVersion: (raw) => Object.fromEntries(raw.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
  setup: (events, o, ctx) => {
    const d = dir(ctx);
    return [
      `mountpoint -q ${T} || mount -t tracefs nodev ${T}`,
      `rm -rf ${d} && mkdir -p ${d} && : > ${d}/trace.txt`,
      ...programLines(events, d),
      // stdout appends (>>), so the trace can be truncated between iterations while bpftrace writes
      // str() copies max_strlen bytes (default 1024) into every record: device and command strings fit in 64
      `BPFTRACE_PERF_RB_PAGES=${o.rbPagesPerCpu} BPFTRACE_MAX_STRLEN=64 setsid bpftrace ${d}/prog.bt >> ${d}/trace.txt 2> ${d}/bpftrace.log < /dev/null &`,
      `echo $! > ${d}/pid`,
      // compiling under TCG takes a while: wait until every probe is attached
      `i=0; until grep -q '^Attaching' ${d}/trace.txt ${d}/bpftrace.log 2> /dev/null; do i=$((i + 1)); [ $i -le 3000 ] && kill -0 $(cat ${d}/pid) || { echo 'bpftrace did not attach' >&2; cat ${d}/bpftrace.log >&2; exit 1; }; sleep 0.1; done`,
      'sleep 1',
      // the on/off map: bpftrace names a map @x "AT_x"
      `bpftool map show | awk '/name AT_on / { sub(/:$/, "", $1); print $1; exit }' > ${d}/mapid`,
      `[ -s ${d}/mapid ] || { echo 'no AT_on map' >&2; bpftool map show >&2; exit 1; }`,
      `: > ${d}/trace.txt`,
      // the program as attached, for the record (tracer-setup.out)
      `cat ${d}/prog.bt`,
    ];
  },
  armedCommands: () => [
    // bpftool asks the kernel which BPF programs are attached to which tracepoints
    `bpftool perf | awk '$0 ~ / tracepoint / { print $NF }' | sort -u | while read -r e; do s=$(ls -d ${T}/events/*/"$e" | head -n 1); s=\${s%/*}; echo "armed \${s##*/}:$e"; done`,
  ],
  parseArmed: parseEbpfArmed,
  start: (_o, ctx) => {
    const d = dir(ctx);
    return [`: > ${d}/trace.txt`, setOn(d, true)];
  },
  stop: (_o, ctx) => {
    const d = dir(ctx);
    return [setOn(d, false), drain(d)];
  },
  collect: (_o, ctx) => {
    const d = dir(ctx);
    return [
      `echo "bytes $(stat -c %s ${d}/trace.txt)"`,
      `echo "lines $(wc -l < ${d}/trace.txt)"`,
      `awk '${COUNT_AWK}' ${d}/trace.txt`,
    ];
  },
  parseStats: (raw) => ebpfStats(raw),
  teardown: (_o, ctx) => {
    const d = dir(ctx);
    return [`p=$(cat ${d}/pid 2>/dev/null) || exit 0`, `kill -INT "$p" 2>/dev/null || true`, `i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done`, `rm -rf ${d}`];
  },
  describe: (o) => ({
    mode: 'recording (bpftrace printf of every field into its BPF output buffer, drained to tmpfs as text)',
    rbPagesPerCpu: o.rbPagesPerCpu,
    bufferKiBPerCpu: o.rbPagesPerCpu * 4,
    start: 'programs attached once at setup; a one-entry map (@on) switched with bpftool per iteration (no attach/detach)',
  }),
};
