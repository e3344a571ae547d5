// ktrace, the seed's tracer, as the out-of-tree module in ktrace/ (ABI in
// ktrace/ABI.md): loaded with its buffer options, armed through debugfs,
// verified through `info`, and counted exactly through `stats`.
import { z } from 'zod';
import { ExitCode, ParseError, TracebenchError } from '../errors.js';
import { sections } from '../sections.js';
import type { ResolvedEvent, TraceStats, TracerDriver } from '../types.js';
import { parseInfo } from './ktrace-decode.js';
import { namePattern } from './native-grammar.js';
import { shellQuote } from './shell.js';

const K = '/sys/kernel/debug/ktrace';
// the module returns at most 64 KiB of whole records per read (ktrace/ABI.md)
const DUMP_READ_BYTES = 65536;
const DUMP_READS = 4;

export const ktraceOptions = z
  .object({
    /** per-CPU ring buffer in KiB; 1408 is ftrace's default, so buffers are comparable */
    bufferKiBPerCpu: z.number().int().min(8).default(1408),
    /** true: flight recorder (oldest records overwritten); false: newest dropped when full */
    overwrite: z.boolean().default(true),
    /**
     * false: load the module and attach every event's probe at setup, but never
     * turn `enabled` on ("loaded but off", configs/tracers/ktrace-off.yaml).
     * Attached probes keep their tracepoints on, so each hit still calls into
     * ktrace; this measures that cost against vanilla (ktrace/ABI.md).
     */
    enabled: z.boolean().default(true),
  })
  .strict();
export type KtraceOptions = z.infer<typeof ktraceOptions>;

/**
 * What ktrace's `bytes` counts, for the report's bytes column: its records
 * only. ftrace's streamed bytes are whole pages and LTTng's are packets, each
 * with headers and padding; the ring buffer does not export its count of pages
 * written, so ktrace labels the quantity instead (ktrace/ABI.md, "stats").
 */
export const KTRACE_BYTES_COUNT = 'records (no page headers or padding)';
const KTRACE_METHOD =
  'ktrace stats (exact): events = committed + dropped records; bytes = record bytes (4-byte ring-buffer header + u16 id + payload, padded to 4), without page headers, page-end padding or time extends';

/** One line of `stats`: a CPU's counters, or the totals. */
export interface KtraceCounters {
  events: number;
  bytes: number;
  payloadBytes: number;
  overruns: number;
  dropped: number;
}

export interface KtraceStatsFile {
  perCpu: (KtraceCounters & { cpu: number })[];
  total: KtraceCounters;
  perEvent: Record<string, number>;
}

const COUNTER_KEYS: Record<string, keyof KtraceCounters> = {
  events: 'events',
  bytes: 'bytes',
  payload_bytes: 'payloadBytes',
  overruns: 'overruns',
  dropped: 'dropped',
};

function parseCounters(rest: string, lineNo: number, line: string): KtraceCounters {
  const c: Partial<KtraceCounters> = {};
  for (const kv of rest.trim().split(/\s+/)) {
    const m = /^([a-z_]+)=(\d+)$/.exec(kv);
    const key = m && COUNTER_KEYS[m[1]];
    if (!m || !key) throw new ParseError('ktrace stats', `unexpected counter ${JSON.stringify(kv)}`, lineNo, line);
    c[key] = Number(m[2]);
  }
  for (const key of Object.values(COUNTER_KEYS)) {
    if (c[key] === undefined) throw new ParseError('ktrace stats', `missing counter ${key}`, lineNo, line);
  }
  return c as KtraceCounters;
}

/**
 * Parse the `stats` file. The totals line must equal the sum of the CPU lines:
 * both are printed from the same counters, so a difference means the text was
 * cut or mixed with other output.
 */
export function parseKtraceStatsFile(raw: string): KtraceStatsFile {
  const perCpu: KtraceStatsFile['perCpu'] = [];
  const perEvent: Record<string, number> = {};
  let total: KtraceCounters | undefined;
  raw.split('\n').forEach((line, i) => {
    const cpu = /^cpu(\d+) (.*)$/.exec(line);
    const tot = /^total (.*)$/.exec(line);
    const ev = /^event (\w+)=(\d+)$/.exec(line);
    if (cpu) perCpu.push({ cpu: Number(cpu[1]), ...parseCounters(cpu[2], i + 1, line) });
    else if (tot) total = parseCounters(tot[1], i + 1, line);
    else if (ev) perEvent[ev[1]] = Number(ev[2]);
  });
  if (perCpu.length === 0) throw new ParseError('ktrace stats', 'no "cpuN ..." lines');
  if (!total) throw new ParseError('ktrace stats', 'no "total ..." line');
  for (const key of Object.values(COUNTER_KEYS)) {
    const sum = perCpu.reduce((a, c) => a + c[key], 0);
    if (sum !== total[key]) throw new ParseError('ktrace stats', `total ${key} ${total[key]} is not the sum of the CPUs (${sum})`);
  }
  return { perCpu, total, perEvent };
}


/** ktrace event names are the mainline tracepoint names (C identifiers): anything else cannot be a debugfs file of ours */
export const ktraceNativeName = namePattern('ktrace', /^[a-z0-9_]+$/, 'a tracepoint name of lower-case letters, digits and _, as listed in ktrace/ABI.md');

// checked again here: setup must not write outside events/ even if handed a name the config rules never saw
function eventName(n: string): string {
  if (!ktraceNativeName.safeParse(n).success) {
    throw new TracebenchError({
      message: `ktrace: ${JSON.stringify(n)} is not a ktrace event name`,
      hint: 'ktrace names are the mainline tracepoint names listed in ktrace/ABI.md, e.g. sched_switch',
      exitCode: ExitCode.usage,
    });
  }
  return n;
}

export const ktrace: TracerDriver<KtraceOptions> = {
  name: 'ktrace',
  options: ktraceOptions,
  nativeName: ktraceNativeName,
  image: { packages: [], steps: [{ name: 'ktrace', dir: 'ktrace', script: 'build-in-image.sh' }] },
  sourceAxis: {
    field: 'ktrace',
    defaultWord: 'repo',
    defaultMeans: "this repository's ktrace/",
    step: 'ktrace',
    envVar: 'KTRACE_SRC',
    tarball: false,
    marker: 'Kbuild',
    what: 'a ktrace',
  },
  // ktrace records every hit of an armed event: there is no filter to arm
  nativeFilter: null,
  // the info line appears only once the module is loaded; modinfo reads the installed .ko
  versionCommands: () => [
    'echo "module=$(modinfo -F version ktrace)"',
    'echo "srcversion=$(modinfo -F srcversion ktrace)"',
    `if [ -r ${K}/info ]; then head -n 1 ${K}/info; fi`,
  ],
  parseVersion: (raw) => {
    const out: Record<string, string> = {};
    for (const line of raw.split('\n')) {
      const kv = /^(module|srcversion)=(.*)$/.exec(line.trim());
      const info = /^version (\S+)$/.exec(line.trim());
      if (kv) out[kv[1]] = kv[2];
      if (info) out.info = info[1];
    }
    if (!out.module) throw new ParseError('ktrace version', 'no "module=" line: is ktrace.ko installed in the image?');
    if (out.info && out.info !== out.module) {
      throw new ParseError('ktrace version', `loaded module reports ${out.info}, installed module is ${out.module}`);
    }
    return out;
  },
  setup: (events: ResolvedEvent[], o) => {
    const filtered = events.find((e) => e.filter);
    if (filtered) {
      throw new TracebenchError({
        message: `ktrace: event ${filtered.logical} has a filter (${filtered.filter}); ktrace records every hit`,
        hint: 'remove the filter from the instrumentation set for ktrace',
        exitCode: ExitCode.usage,
      });
    }
    const names = [...new Set(events.flatMap((e) => e.native.map(eventName)))];
    return [
      // module parameters only take effect at load: start from a fresh module
      'if [ -d /sys/module/ktrace ]; then rmmod ktrace; fi',
      `modprobe ktrace buffer_kib=${o.bufferKiBPerCpu} overwrite=${o.overwrite ? 1 : 0}`,
      'mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug',
      `echo 0 > ${K}/enabled`,
      `for f in ${K}/events/*; do echo 0 > "$f"; done`,
      ...names.map((n) => `echo 1 > ${K}/events/${shellQuote(n)}`),
    ];
  },
  armedCommands: () => [`cat ${K}/info`],
  parseArmed: (raw) => parseInfo(raw).events.filter((e) => e.enabled).map((e) => e.name),
  // reset clears the ring buffer and every counter, so stats cover this iteration only;
  // the module refuses it (EBUSY) while tracing, so it always comes before `enabled` 1.
  // `enabled` is a flag, not a static key: neither line patches kernel text mid-run.
  start: (o) => [`echo 1 > ${K}/reset`, ...(o.enabled ? [`echo 1 > ${K}/enabled`] : [])],
  stop: () => [`echo 0 > ${K}/enabled`],
  collect: () => ['echo "== stats"', `cat ${K}/stats`, 'echo "== overflow"', `cat ${K}/overflow`],
  parseStats: (raw, o): TraceStats => {
    const sec = sections(raw);
    if (sec.stats === undefined) throw new ParseError('ktrace stats', 'no "== stats" section');
    const s = parseKtraceStatsFile(sec.stats);
    const overflow = sec.overflow === undefined ? undefined : Number(sec.overflow.trim());
    if (overflow !== undefined && !(Number.isInteger(overflow) && overflow === s.total.overruns)) {
      throw new ParseError('ktrace stats', `overflow ${JSON.stringify(sec.overflow.trim())} differs from total overruns ${s.total.overruns}`);
    }
    return {
      // committed records plus those the buffer refused; overwritten ones were committed first
      events: s.total.events + s.total.dropped,
      bytes: s.total.bytes,
      lost: s.total.dropped,
      overwritten: s.total.overruns,
      method: `${KTRACE_METHOD}${o.enabled ? '' : '; tracing never enabled (ktrace-off: probes attached, enabled 0)'}`,
      perEvent: s.perEvent,
      details: {
        perCpu: s.perCpu,
        payloadBytes: s.total.payloadBytes,
        bytesCounts: KTRACE_BYTES_COUNT,
        bytesMeaning: 'ring-buffer record bytes: 4-byte record header + u16 id + payload, padded to 4',
        mode: o.overwrite ? 'overwrite' : 'discard',
        tracing: o.enabled ? 'on during each iteration' : 'off for the whole boot',
      },
    };
  },
  // Keep a sample of the last iteration's trace with the raw output, so the
  // records themselves can be decoded on the host (parseBufferDump). Each read
  // of a buffer returns whole records, so 4 reads of 64 KiB end on a record
  // boundary; 256 KiB per CPU bounds what every boot adds to the results.
  teardown: () => [
    `echo 0 > ${K}/enabled`,
    `for f in ${K}/buffers/cpu*; do echo "== \${f##*/}"; dd if="$f" bs=${DUMP_READ_BYTES} count=${DUMP_READS} 2>/dev/null | base64 -w 0; echo; done`,
    'rmmod ktrace',
  ],
  describe: (o) => ({
    mode: o.overwrite ? 'flight-recorder (overwrite)' : 'discard newest when full',
    tracing: o.enabled ? 'enabled during each iteration' : 'never enabled: module loaded, probes attached, enabled 0',
    bufferKiBPerCpu: o.bufferKiBPerCpu,
    clock: 'ring-buffer default (trace_clock_local)',
  }),
};
