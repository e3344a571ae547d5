// ftrace through tracefs, as a user would arm it: set_event for the pinned set,
// a per-CPU ring buffer of bufferKiBPerCpu. Two modes:
//  - flight-recorder (default): overwrite on, nothing reads the buffer while the
//    workload runs; volume is estimated from per_cpu stats afterwards;
//  - streaming: overwrite off, one reader per CPU drains per_cpu/cpuN/trace_pipe_raw
//    into ctx.traceDir (a tmpfs, never the filesystem dbench measures) while the
//    workload runs, the way trace-cmd's recorders do; volume is the exact size of
//    what was read. The streaming fragments are in ftrace-streaming.ts.
import { z } from 'zod';
import { ParseError } from '../errors.js';
import type { ResolvedEvent, TraceStats, TracerDriver } from '../types.js';
import { parseStreamingCollect, streamingCollect, streamingSetup, streamingStart, streamingStop, streamingTeardown } from './ftrace-streaming.js';
import { filterSchema, namePattern } from './native-grammar.js';
import { shellQuote } from './shell.js';

export const T = '/sys/kernel/tracing';

/**
 * Pause between two passes of a streaming reader when little was waiting. The
 * default 1408 KiB buffer fills in about 100 ms at the syscall loop's rate under
 * TCG (~13 MB/s per CPU), and faster under KVM: a 100 ms pause lost two thirds of
 * the events in a 6.12 guest. trace-cmd's recorders sleep 1 ms; each pass here
 * forks a sleep (and a dd when pages are full), so 20 ms is the compromise. It
 * still drops about half of the syscall loop's events under TCG when the loop
 * runs on every CPU (the readers compete for those CPUs; counted as lost).
 */
export const DEFAULT_READ_INTERVAL_MS = 20;

const ftraceObject = z
  .object({
    /**
     * flight-recorder: nothing reads the buffer during the workload (the seed's setup);
     * streaming: per-CPU readers drain trace_pipe_raw to tmpfs, exact volume
     */
    mode: z.enum(['flight-recorder', 'streaming']).default('flight-recorder'),
    /** per-CPU buffer in KiB; 1408 is the kernel's TRACE_BUF_SIZE_DEFAULT */
    bufferKiBPerCpu: z.number().int().min(4).default(1408),
    /**
     * true: oldest events overwritten; false: newest dropped when full.
     * Defaults to true for the flight recorder and false for streaming, which refuses true.
     */
    overwrite: z.boolean().optional(),
    /** trace_clock; "local" is the kernel default and the cheapest */
    clock: z.enum(['local', 'global', 'counter', 'uptime', 'perf', 'mono', 'mono_raw', 'boot', 'x86-tsc']).default('local'),
    /** options/record-cmd: on by default in the kernel; it hooks sched_switch to save comms */
    recordCmd: z.boolean().default(true),
    /** streaming only: milliseconds between two drains of each reader (DEFAULT_READ_INTERVAL_MS) */
    readIntervalMs: z.number().int().min(1).max(10000).optional(),
  })
  .strict();

export const ftraceOptions = ftraceObject
  .superRefine((o, ctx) => {
    if (o.mode === 'streaming' && o.overwrite === true) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['overwrite'],
        message:
          'mode streaming needs overwrite: false (a full buffer must drop new events, counted as lost, instead of overwriting pages the readers have not read yet); set it to false or leave it out',
      });
    }
    if (o.mode !== 'streaming' && o.readIntervalMs !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['readIntervalMs'], message: 'only mode streaming has readers; remove readIntervalMs or set mode: streaming' });
    }
  })
  .transform((o) => ({
    ...o,
    overwrite: o.overwrite ?? o.mode !== 'streaming',
    // only streaming has readers: a flight recorder's recorded options carry no interval
    readIntervalMs: o.mode === 'streaming' ? (o.readIntervalMs ?? DEFAULT_READ_INTERVAL_MS) : undefined,
  }));
export type FtraceOptions = z.output<typeof ftraceOptions>;

/** `subsystem:event` as tracefs names it in set_event (and as the directory events/<subsystem>/<event>) */
export const ftraceNativeName = namePattern('ftrace', /^[A-Za-z0-9_]+:[A-Za-z0-9_]+$/, 'subsystem:event, each of letters, digits and _');

/** The tracefs event filter language (Documentation/trace/events.rst, "Event filtering") */
export const ftraceNativeFilter = filterSchema({ tracer: 'ftrace', operators: ['==', '!=', '<=', '>=', '<', '>', '&&', '||', '&', '~', '!'], contextFields: false });

/** One CPU's per_cpu/cpuN/stats, as the kernel prints it. */
export interface FtraceCpuStats {
  cpu: number;
  entries: number;
  overrun: number;
  commitOverrun: number;
  bytes: number;
  droppedEvents: number;
  readEvents: number;
}

const STAT_KEYS: Record<string, keyof FtraceCpuStats> = {
  entries: 'entries',
  overrun: 'overrun',
  'commit overrun': 'commitOverrun',
  bytes: 'bytes',
  'dropped events': 'droppedEvents',
  'read events': 'readEvents',
};

/** Parse the collect output: "== cpuN" headers, each followed by that CPU's stats file. */
export function parseFtraceStats(raw: string): FtraceCpuStats[] {
  const cpus: FtraceCpuStats[] = [];
  let cur: FtraceCpuStats | undefined;
  raw.split('\n').forEach((line, i) => {
    const head = /^== cpu(\d+)$/.exec(line.trim());
    if (head) {
      cur = { cpu: Number(head[1]), entries: 0, overrun: 0, commitOverrun: 0, bytes: 0, droppedEvents: 0, readEvents: 0 };
      cpus.push(cur);
      return;
    }
    const kv = /^([a-z ]+):\s*([\d.]+)\s*$/.exec(line.trim());
    if (!kv) return; // "oldest event ts:" and "now ts:" carry timestamps we do not need
    if (!cur) throw new ParseError('ftrace stats', 'value before any "== cpuN" header', i + 1, line);
    const key = STAT_KEYS[kv[1]];
    if (key) cur[key] = Number(kv[2]) as never;
  });
  if (cpus.length === 0) throw new ParseError('ftrace stats', 'no per-CPU stats found');
  return cpus;
}

const statsLines = () => [`for f in ${T}/per_cpu/cpu*/stats; do c=\${f%/stats}; echo "== \${c##*/}"; cat "$f"; done`];

const sumOf = (cpus: FtraceCpuStats[]) => (k: keyof FtraceCpuStats) => cpus.reduce((a, c) => a + c[k], 0);

function flightRecorderStats(raw: string, o: FtraceOptions): TraceStats {
  const cpus = parseFtraceStats(raw);
  const sum = sumOf(cpus);
  const written = sum('entries') + sum('overrun') + sum('readEvents');
  const resident = sum('entries');
  // `bytes` is what is still unread in the buffer, not a running total. With
  // nothing reading, the mean size of resident records times the records
  // written estimates bytes written; an empty buffer means nothing was written.
  const meanRecord = resident > 0 ? sum('bytes') / resident : 0;
  return {
    events: written + sum('droppedEvents'),
    bytes: Math.round(written * meanRecord),
    lost: sum('droppedEvents'),
    overwritten: o.overwrite ? sum('overrun') : 0,
    method: 'per_cpu stats: events = entries + overrun + read + dropped (exact); bytes = events written x mean resident record size (estimate)',
    details: { perCpu: cpus, commitOverrun: sum('commitOverrun'), meanRecordBytes: meanRecord },
  };
}

/** Streaming: bytes are the files the readers wrote; events still come from per_cpu stats. */
export function streamingStats(raw: string, o: FtraceOptions): TraceStats {
  const c = parseStreamingCollect(raw);
  const cpus = parseFtraceStats(c.statsRaw);
  const sum = sumOf(cpus);
  const missing = cpus.filter((s) => c.rawFiles[`cpu${s.cpu}`] === undefined).map((s) => `cpu${s.cpu}`);
  if (missing.length) throw new ParseError('ftrace streaming collect', `no raw file for ${missing.join(', ')}: its reader never started`);
  const bytes = Object.values(c.rawFiles).reduce((a, b) => a + b, 0);
  const readEvents = sum('readEvents');
  return {
    events: readEvents + sum('entries') + sum('overrun') + sum('droppedEvents'),
    bytes,
    lost: sum('droppedEvents'),
    // overwrite is off in streaming mode: overrun stays 0 (kept in details to show it)
    overwritten: 0,
    method:
      `streaming: per-CPU dd readers (in set_event_notrace_pid) copied the full trace_pipe_raw pages to tmpfs every ${o.readIntervalMs} ms and drained the rest after tracing_on=0; ` +
      'bytes = size of what they read (exact, page-granular: whole ring-buffer pages with their 16-byte headers and unused tails, the last page of each CPU partly filled; cf. LTTng packet headers); ' +
      'events = read events + entries + overrun + dropped events (per_cpu stats; entries is 0 once drained); lost = dropped events (overwrite off)',
    details: {
      mode: 'streaming',
      readEvents,
      residentAfterDrain: sum('entries'),
      residentBytesAfterDrain: sum('bytes'),
      overrun: sum('overrun'),
      droppedEvents: sum('droppedEvents'),
      commitOverrun: sum('commitOverrun'),
      rawFileBytes: c.rawFiles,
      meanBytesPerReadEvent: readEvents > 0 ? bytes / readEvents : 0,
      perCpu: cpus,
    },
  };
}

export const ftrace: TracerDriver<FtraceOptions> = {
  name: 'ftrace',
  options: ftraceOptions,
  nativeName: ftraceNativeName,
  nativeFilter: ftraceNativeFilter,
  // tracefs is the kernel's: its version is the kernel's
  versionAxis: 'kernel',
  versionCommands: () => [`echo "kernel=$(uname -r)"`, `echo "tracefs=${T}"`, `echo "clocks=$(cat ${T}/trace_clock)"`],
  parseVersion: (raw) => Object.fromEntries(raw.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
  setup: (events: ResolvedEvent[], o) => [
    `mountpoint -q ${T} || mount -t tracefs nodev ${T}`,
    `echo 0 > ${T}/tracing_on`,
    `echo nop > ${T}/current_tracer`,
    // size the buffer before anything runs: tracefs keeps it minimal until first expanded
    `echo ${o.bufferKiBPerCpu} > ${T}/buffer_size_kb`,
    `echo ${o.overwrite ? 1 : 0} > ${T}/options/overwrite`,
    `echo ${o.recordCmd ? 1 : 0} > ${T}/options/record-cmd`,
    `echo ${o.clock} > ${T}/trace_clock`,
    `echo > ${T}/set_event`,
    ...events.flatMap((e) => e.native.map((n) => `echo ${shellQuote(n)} >> ${T}/set_event`)),
    ...events
      .filter((e) => e.filter)
      .flatMap((e) => e.native.map((n) => `echo ${shellQuote(e.filter!)} > ${T}/events/${shellQuote(n.replace(':', '/'))}/filter`)),
    ...(o.mode === 'streaming' ? streamingSetup(T) : []),
  ],
  armedCommands: () => [`cat ${T}/set_event`],
  parseArmed: (raw) => raw.split('\n').map((l) => l.trim()).filter(Boolean),
  // writing to `trace` resets every per-CPU buffer and its counters, so each
  // iteration's stats count only that iteration
  start: (o, ctx) => (o.mode === 'streaming' ? streamingStart(T, ctx, o.readIntervalMs ?? DEFAULT_READ_INTERVAL_MS) : [`echo > ${T}/trace`, `echo 1 > ${T}/tracing_on`]),
  stop: (o) => (o.mode === 'streaming' ? streamingStop(T) : [`echo 0 > ${T}/tracing_on`]),
  collect: (o, ctx) => (o.mode === 'streaming' ? [...statsLines(), ...streamingCollect(ctx)] : statsLines()),
  parseStats: (raw, o): TraceStats => (o.mode === 'streaming' ? streamingStats(raw, o) : flightRecorderStats(raw, o)),
  teardown: (o) => [...(o.mode === 'streaming' ? streamingTeardown(T) : []), `echo 0 > ${T}/tracing_on`, `echo > ${T}/set_event`],
  describe: (o) => ({
    mode:
      o.mode === 'streaming'
        ? `streaming (overwrite off, per-CPU dd readers copy full trace_pipe_raw pages to tmpfs every ${o.readIntervalMs} ms and drain after stop; readers not traced)`
        : o.overwrite
          ? 'flight-recorder (overwrite)'
          : 'discard newest when full',
    bufferKiBPerCpu: o.bufferKiBPerCpu,
    clock: o.clock,
    recordCmd: o.recordCmd,
    ...(o.mode === 'streaming' ? { readIntervalMs: o.readIntervalMs } : {}),
  }),
};
