// ftrace through tracefs, as a user would arm it: set_event for the pinned set,
// a per-CPU ring buffer of bufferKiBPerCpu, overwrite (flight recorder) by default.
import { z } from 'zod';
import { ParseError } from '../errors.js';
import type { ResolvedEvent, TraceStats, TracerDriver } from '../types.js';
import { shellQuote } from './shell.js';

const T = '/sys/kernel/tracing';

export const ftraceOptions = z
  .object({
    /** per-CPU buffer in KiB; 1408 is the kernel's TRACE_BUF_SIZE_DEFAULT */
    bufferKiBPerCpu: z.number().int().min(4).default(1408),
    /** true: flight recorder (oldest events overwritten); false: newest dropped when full */
    overwrite: z.boolean().default(true),
    /** trace_clock; "local" is the kernel default and the cheapest */
    clock: z.enum(['local', 'global', 'counter', 'uptime', 'perf', 'mono', 'mono_raw', 'boot', 'x86-tsc']).default('local'),
    /** options/record-cmd: on by default in the kernel; it hooks sched_switch to save comms */
    recordCmd: z.boolean().default(true),
  })
  .strict();
export type FtraceOptions = z.infer<typeof ftraceOptions>;

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

export const ftrace: TracerDriver<FtraceOptions> = {
  name: 'ftrace',
  options: ftraceOptions,
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
      .flatMap((e) => e.native.map((n) => `echo ${shellQuote(e.filter!)} > ${T}/events/${n.replace(':', '/')}/filter`)),
  ],
  armedCommands: () => [`cat ${T}/set_event`],
  parseArmed: (raw) => raw.split('\n').map((l) => l.trim()).filter(Boolean),
  // writing to `trace` resets every per-CPU buffer and its counters, so each
  // iteration's stats count only that iteration
  start: () => [`echo > ${T}/trace`, `echo 1 > ${T}/tracing_on`],
  stop: () => [`echo 0 > ${T}/tracing_on`],
  collect: () => [`for f in ${T}/per_cpu/cpu*/stats; do c=\${f%/stats}; echo "== \${c##*/}"; cat "$f"; done`],
  parseStats: (raw, o): TraceStats => {
    const cpus = parseFtraceStats(raw);
    const sum = (k: keyof FtraceCpuStats) => cpus.reduce((a, c) => a + c[k], 0);
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
  },
  teardown: () => [`echo 0 > ${T}/tracing_on`, `echo > ${T}/set_event`],
  describe: (o) => ({
    mode: o.overwrite ? 'flight-recorder (overwrite)' : 'discard newest when full',
    bufferKiBPerCpu: o.bufferKiBPerCpu,
    clock: o.clock,
    recordCmd: o.recordCmd,
  }),
};
