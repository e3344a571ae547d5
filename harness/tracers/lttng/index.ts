// LTTng 2.13 kernel tracing, as a user runs it with the lttng CLI: a root
// lttng-sessiond, one session "tb" with one kernel channel, the pinned set armed
// by name. Two modes (see README.md in this directory):
//  - flight-recorder: snapshot session, overwrite channel, nothing leaves the
//    ring buffer while the workload runs (the seed's configuration);
//  - streaming: the consumer daemon writes the trace to ctx.traceDir (a tmpfs,
//    never the filesystem dbench measures), discard mode so nothing is lost silently.
//
// Names. The pinned set's LTTng names are tracepoint names (`sched_switch`) and,
// for system calls, `syscall_entry_<name>` / `syscall_exit_<name>` with `*` for
// all of them: the names of the events LTTng records. LTTng 2.13 arms entry and
// exit together with one `--syscall` rule, so both must be asked for together.
// `parseArmed` answers in the same names (a `--syscall --all` rule reads back as
// `syscall_entry_*` and `syscall_exit_*`), so `nativeNames(events)` is simply the
// pinned natives; the harness compares the two sets directly.
//
// One start, one stop per boot. `lttng start` / `lttng stop` (and `lttng clear`
// of an active session, which stops and restarts it) make lttng-modules sync its
// event enablers (lttng_session_enable/disable -> lttng_session_sync_event_enablers),
// which registers or unregisters every armed tracepoint probe: each flips the
// tracepoint's static key, i.e. patches kernel text with int3 (text_poke_bp).
// Under multi-threaded TCG that races with the other vCPU into "Oops: int3"
// (issue 11, docs/reliability.md "TCG oops: root cause"). So the session is
// started once at the end of `setup` (probes registered before any workload)
// and destroyed in `teardown`; an iteration's start/stop only switch the
// session's PID inclusion set between "all" (the tracker pointer is NULL, the
// same probe path as a session that never tracked anything) and "nobody"
// (every probe returns before writing), which patches nothing. Per-iteration
// volume then comes from the ring buffer without stopping it: flight recorder,
// `lttng snapshot record` (it flushes the active packets, so packets never span
// iterations) keeping only the packets newer than the previous collect's;
// streaming, `lttng rotate`, whose archive holds exactly what was written since
// the previous rotation.
//
// State dump. LTTng dumps the kernel's state (processes, fds, interrupts ...)
// synchronously inside `lttng start`, once, in setup. Its lttng_statedump_*
// records are written only when those events are enabled; the pinned set does
// not enable them, so the dump adds no trace volume either.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ExitCode, TracebenchError } from '../../errors.js';
import type { GuestContext, ResolvedEvent, TraceStats, TracerDriver } from '../../types.js';
import { filterSchema, namePattern } from '../native-grammar.js';
import { shellQuote } from '../shell.js';
import { parsePacketHeaders, snapshotVolume } from './packets.js';
import { snapshotSections } from './snapshot-host.js';
import {
  parseAvailableSyscalls,
  parseCounter,
  parseMiAvailableEvents,
  parseMiSession,
  parseStopWarning,
  parseTraceFiles,
  type MiChannel,
} from './parse.js';
import { sections } from '../../sections.js';

export const SESSION = 'tb';
export const CHANNEL = 'tbchan';
/** guest-side state between fragments (tmpfs in the guest) */
const STATE = '/run/tracebench-lttng';
/** build facts written by build-in-image.sh */
const INFO = '/usr/share/tracebench/lttng-modules.info';
/**
 * Where collect leaves the iteration's trace for the host when the machine brings
 * output directories back whole (GuestContext.traceToHost): babeltrace2 counting
 * ~60k events took ~3.3 s of every iteration under TCG, ~0.1 s on the host.
 */
export const HOST_TRACE = 'lttng-trace';

/** bytes of struct packet_header (packed, incl. cpu_id) in lttng-modules 2.13 */
const PACKET_HEADER_BYTES = 84;

/**
 * Modules lttng-sessiond must have loaded for kernel tracing
 * (lttng-tools 2.13 src/bin/lttng-sessiond/modprobe.c, "required"), plus the
 * probes the pinned set needs. /proc/modules spells them with underscores.
 */
export const REQUIRED_MODULES = [
  'lttng_tracer',
  'lttng_lib_ring_buffer',
  'lttng_ring_buffer_client_discard',
  'lttng_ring_buffer_client_overwrite',
  'lttng_ring_buffer_metadata_client',
  'lttng_ring_buffer_client_mmap_discard',
  'lttng_ring_buffer_client_mmap_overwrite',
  'lttng_ring_buffer_metadata_mmap_client',
];

const powerOfTwo = (min: number) =>
  z
    .number()
    .int()
    .min(min)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two (LTTng rounds anything else up, silently)');

export const lttngOptions = z
  .object({
    mode: z.enum(['flight-recorder', 'streaming']).default('flight-recorder'),
    /**
     * Per-CPU buffer = subbufSizeKiB x numSubbuf. Default 4 x 256 KiB = 1024 KiB:
     * the power-of-two total closest to ftrace's 1408 KiB (2048 KiB is further
     * away); LTTng's own default count of 4 keeps 3 of 4 sub-buffers readable
     * in a snapshot. See README.md for the mismatch.
     */
    subbufSizeKiB: powerOfTwo(4).default(256),
    numSubbuf: powerOfTwo(2).default(4),
    /** --switch-timer (µs); off by default, so packets only switch when full */
    switchTimerUs: z.number().int().positive().optional(),
    /** --read-timer (µs); LTTng's default for kernel channels is 200000 */
    readTimerUs: z.number().int().positive().optional(),
    /**
     * Which lttng-probe-* modules the session daemon loads: `armed` only those the
     * pinned tracepoints live in (probeModules), `all` every one it finds (its
     * default, ~60 modules: ~10 s of a TCG boot). Unarmed probes register no
     * tracepoint callback, so the choice changes nothing that is measured; an event
     * whose probe `armed` misses is refused by the armed-set check, naming it.
     */
    probes: z.enum(['armed', 'all']).default('armed'),
  })
  .strict();
export type LttngOptions = z.infer<typeof lttngOptions>;

const SYSCALL = /^syscall_(entry|exit)_(.+)$/;

/**
 * A kernel tracepoint name or pattern (`*` globs, as enable-event takes it), or
 * `syscall_entry_<name>` / `syscall_exit_<name>` with `*` for all system calls.
 * No `,`: enable-event takes a comma-separated list.
 */
export const lttngNativeName = namePattern('lttng', /^[A-Za-z0-9_*]+$/, 'a tracepoint name or pattern, or syscall_entry_<name> / syscall_exit_<name>, of letters, digits, _ and *');

/** The `--filter` language of lttng-enable-event(1), with $ctx./$app./$container. context fields */
export const lttngNativeFilter = filterSchema({
  tracer: 'lttng',
  operators: ['==', '!=', '<=', '>=', '<<', '>>', '<', '>', '&&', '||', '&', '|', '^', '~', '!'],
  contextFields: true,
});

/** The pinned set split into what `lttng enable-event` takes: tracepoints and one syscall list. */
export function planEvents(events: ResolvedEvent[]): {
  tracepoints: { names: string[]; filter?: string }[];
  syscalls: { names: string[]; filter?: string }[];
} {
  const tracepoints: { names: string[]; filter?: string }[] = [];
  const syscalls: { names: string[]; filter?: string }[] = [];
  for (const e of events) {
    const tps = e.native.filter((n) => !SYSCALL.test(n));
    const entry = new Set<string>();
    const exit = new Set<string>();
    for (const n of e.native) {
      const m = SYSCALL.exec(n);
      if (m) (m[1] === 'entry' ? entry : exit).add(m[2]);
    }
    if (tps.length) tracepoints.push({ names: tps, filter: e.filter });
    if (entry.size || exit.size) syscalls.push({ names: [...new Set([...entry, ...exit])], filter: e.filter });
  }
  // one --syscall rule arms entry and exit: asking for one without the other cannot be honoured
  const all = events.flatMap((e) => e.native);
  const lonely = all
    .map((n) => SYSCALL.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter((m) => !all.includes(`syscall_${m[1] === 'entry' ? 'exit' : 'entry'}_${m[2]}`))
    .map((m) => m[0]);
  if (lonely.length) {
    throw new TracebenchError({
      message: `lttng: ${lonely.join(', ')} asked for without its entry/exit counterpart; LTTng 2.13 arms both with one --syscall rule`,
      hint: 'map the logical syscall events to both syscall_entry_<name> and syscall_exit_<name> in the instrumentation set',
      exitCode: ExitCode.usage,
    });
  }
  return { tracepoints, syscalls };
}

/**
 * The probe modules the pinned tracepoints live in, for `lttng-sessiond --kmod-probes`:
 * lttng-modules names a tracepoint `<system>_<event>` and ships system <system> in
 * lttng-probe-<system> (sched_switch in sched, timer_hrtimer_start in timer,
 * net_if_receive_skb in net). System calls need no probe module. Null when a
 * pattern could match any probe: then every probe is loaded.
 */
export function probeModules(events: ResolvedEvent[]): string[] | null {
  const tps = planEvents(events).tracepoints.flatMap((t) => t.names);
  if (tps.some((n) => n.includes('*'))) return null;
  return [...new Set(tps.map((n) => n.split('_')[0]!.toLowerCase()))].sort();
}

/** The names `parseArmed` reports when `events` are armed: the pinned natives, sorted, once each. */
export function nativeNames(events: ResolvedEvent[]): string[] {
  return [...new Set(events.flatMap((e) => e.native))].sort();
}

/**
 * The previous collect's session listing (the baseline) and this one's, which becomes the
 * next baseline. Printed with the shell's read and printf, not cat and tee: two execs
 * less per iteration, ~0.15 s of host time under TCG. A failing \`lttng list\` now fails
 * the collect (a pipe into tee hid its status).
 */
const BASELINE_AND_LIST = [
  `show() { while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < "$1"; }`,
  `echo "== baseline"; show ${STATE}/baseline.xml; echo`,
  `lttng --mi xml list ${SESSION} > ${STATE}/baseline.xml`,
  `echo "== list"; show ${STATE}/baseline.xml; echo`,
];
const snapshotDir = (ctx: GuestContext) => `${ctx.traceDir}/lttng-snapshot`;
const streamDir = (ctx: GuestContext) => `${ctx.traceDir}/lttng`;

/** The iteration's events counted: by the guest's babeltrace2, or left in $TB_OUT for the host's (countOnHost). */
function countLine(trace: string, ctx: GuestContext): string {
  return ctx.traceToHost ? `cp -r ${trace} "$TB_OUT/${HOST_TRACE}"` : `echo "== counter"; babeltrace2 ${trace} -c sink.utils.counter`;
}

function kmodProbes(events: ResolvedEvent[], o: LttngOptions): string {
  const probes = o.probes === 'armed' ? probeModules(events) : null;
  return probes?.length ? ` --kmod-probes=${shellQuote(probes.join(','))}` : '';
}

function enableEventLines(events: ResolvedEvent[]): string[] {
  const { tracepoints, syscalls } = planEvents(events);
  const base = `lttng enable-event -k --session ${SESSION} -c ${CHANNEL}`;
  const filt = (f?: string) => (f ? ` --filter ${shellQuote(f)}` : '');
  const plain = tracepoints.filter((t) => !t.filter).flatMap((t) => t.names);
  const lines: string[] = [];
  // quoted: a pattern's `*` would otherwise be globbed against the guest's cwd
  if (plain.length) lines.push(`${base} ${shellQuote(plain.join(','))}`);
  for (const t of tracepoints.filter((t) => t.filter)) lines.push(`${base}${filt(t.filter)} ${shellQuote(t.names.join(','))}`);
  // sys_enter and sys_exit both map to the same --syscall rule: one line per filter
  const byFilter = new Map<string | undefined, Set<string>>();
  for (const s of syscalls) byFilter.set(s.filter, new Set([...(byFilter.get(s.filter) ?? []), ...s.names]));
  for (const [filter, names] of byFilter) {
    const which = names.has('*') ? '--all' : shellQuote([...names].sort().join(','));
    lines.push(`${base} --syscall${filt(filter)} ${which}`);
  }
  return lines;
}

/** Dump the packed header of every packet of every stream file (at most numSubbuf per CPU in a snapshot). */
export function packetDumpLines(dir: string): string[] {
  return [
    `for f in $(find ${dir} -type f -path '*/kernel/*' ! -name metadata ! -path '*/index/*' | sort); do`,
    `  size=$(stat -c %s "$f"); off=0`,
    `  while [ "$off" -lt "$size" ]; do`,
    // one od per packet (each process costs ~60 ms under TCG); the words split into $1..$11
    `    set -- $(od -A n -t u8 -v -j "$off" -N 88 "$f")`,
    `    echo "packet \${f##*/} $off $*"`,
    // packet_size (bits) is the 8th u64: the walk needs it to find the next packet
    `    bits=\${8:-0}`,
    `    [ "$bits" -gt 0 ] || break`,
    `    off=$((off + bits / 8))`,
    `  done`,
    `done`,
  ];
}

/**
 * Keep, in each stream file of the snapshot, only the packets this iteration
 * wrote: those with a packet_seq_num above the newest one of the previous
 * collect (<state>/packets.txt; none before the first iteration). The snapshot
 * holds packets oldest first, so this cuts a prefix; a stream with no new packet
 * is removed. The per-packet index no longer matches the cut files, and
 * babeltrace2 reads a stream without it.
 */
export function trimToNewPackets(dir: string, state = STATE): string[] {
  // field 12 of a "packet" line is packet_seq_num (see packets.ts), field 3 the packet's offset
  const top = `awk -v s="$s" '$1 == "packet" && $2 == s && $12 + 0 > m { m = $12 + 0 } END { print m }' m=-1`;
  const first = `awk -v s="$s" -v t="$t" '$1 == "packet" && $2 == s && $12 + 0 > t + 0 { print $3; exit }' ${state}/packets.new`;
  return [
    `find ${dir} -type d -name index -prune -exec rm -rf {} +`,
    `for f in $(find ${dir} -type f -path '*/kernel/*' ! -name metadata | sort); do`,
    `  s=\${f##*/}`,
    `  if [ -f ${state}/packets.txt ]; then t=$(${top} ${state}/packets.txt); else t=-1; fi`,
    `  first=$(${first})`,
    `  if [ -z "$first" ]; then rm -f "$f"`,
    `  elif [ "$first" -gt 0 ]; then tail -c +$((first + 1)) "$f" > "$f.new"; mv "$f.new" "$f"; fi`,
    `done`,
  ];
}

function channelOf(xml: string, what: string): MiChannel {
  const ch = parseMiSession(xml).channels.find((c) => c.name === CHANNEL);
  if (!ch) throw new TracebenchError({ message: `lttng: no channel ${CHANNEL} in ${what}`, exitCode: ExitCode.guest });
  return ch;
}

/**
 * The host's babeltrace2 counts the trace collect left in `dir` (the same
 * sink.utils.counter the guest would run; CTF 1.8 reads the same in 2.0 and 2.1),
 * appended as the `counter` section the guest would otherwise have printed.
 * The copy is removed once counted and kept when counting fails.
 */
export function countOnHost(dir: string): string {
  const trace = join(dir, HOST_TRACE);
  if (!existsSync(trace)) return '';
  let out: string;
  try {
    out = execFileSync('babeltrace2', [trace, '-c', 'sink.utils.counter'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    throw new TracebenchError({
      message: `lttng: the host's babeltrace2 could not count ${trace}: ${err.code === 'ENOENT' ? 'babeltrace2 is not installed on this host' : (err.stderr || err.message).trim().split('\n').slice(-3).join(' ')}`,
      hint: 'babeltrace2 is a host package of tracebench (tracebench doctor); the trace is kept there',
      exitCode: ExitCode.host,
    });
  }
  rmSync(trace, { recursive: true, force: true });
  return `\n== counter\n${out}`;
}

/**
 * What collect left for the host, reduced: the flight recorder's snapshot walked and
 * cut to this iteration's packets against the previous collect's (its reduction's
 * packets section, in time order), then counted; a streaming chunk only counted.
 */
export function reduceLttngOnHost(dir: string, o: LttngOptions, previous?: string): string {
  const trace = join(dir, HOST_TRACE);
  if (!existsSync(trace)) return '';
  const walked = o.mode === 'streaming' ? '' : snapshotSections(trace, sections(previous ?? '').packets?.trim() ?? '');
  return walked + countOnHost(dir);
}

export function parseLttngStats(raw: string, o: LttngOptions): TraceStats {
  const s = sections(raw);
  const now = channelOf(s.list ?? '', 'the collect output');
  // discarded_events/lost_packets are cumulative since the session was created:
  // the iteration's share is the difference from the copy saved after the last clear
  const before = s.baseline?.trim() ? channelOf(s.baseline, 'the baseline') : { discardedEvents: 0, lostPackets: 0 };
  const discarded = now.discardedEvents - before.discardedEvents;
  const lostPackets = now.lostPackets - before.lostPackets;
  const counter = parseCounter(s.counter ?? '');
  const files = parseTraceFiles(s.files ?? '');
  const details: Record<string, unknown> = {
    mode: o.mode,
    discardedEvents: discarded,
    lostPackets,
    // `lttng stop` printed a loss warning; collects from before the session ran across iterations kept it
    ...(s.stop !== undefined ? { stopWarning: parseStopWarning(s.stop) } : {}),
    streams: files.streams,
    streamFileBytes: files.streamBytes,
    metadataBytes: files.metadataBytes,
    packetsRead: counter.packetBeginnings,
    discardedEventMessages: counter.discardedEventMessages,
    discardedPacketMessages: counter.discardedPacketMessages,
  };
  if (o.mode === 'streaming') {
    return {
      events: counter.events + discarded,
      bytes: files.streamBytes,
      lost: discarded,
      overwritten: 0,
      method:
        'streaming: session active for the whole boot, recording gated per iteration by the PID tracker; events = babeltrace2 counter of the iteration\'s trace chunk (lttng rotate archive on tmpfs) + discarded events (lttng list difference); bytes = its stream files (packets incl. padding, excl. metadata and index)',
      details,
    };
  }
  // flight recorder: LTTng reports no statistics for snapshot sessions
  const headers = parsePacketHeaders(s.packets ?? '');
  const vol = snapshotVolume(headers, parsePacketHeaders(s['previous-packets'] ?? ''), PACKET_HEADER_BYTES);
  const bytesPerEvent = counter.events > 0 ? vol.snapshotRecordBytes / counter.events : 0;
  const subbufBytes = o.subbufSizeKiB * 1024;
  const overwrittenBytes = vol.overwrittenPackets * (subbufBytes - PACKET_HEADER_BYTES);
  const overwrittenEvents = bytesPerEvent > 0 ? Math.round(overwrittenBytes / bytesPerEvent) : 0;
  return {
    events: counter.events + overwrittenEvents,
    bytes: Math.round(vol.snapshotRecordBytes + overwrittenBytes),
    lost: 0,
    overwritten: overwrittenEvents,
    method:
      'flight recorder: session active for the whole boot, recording gated per iteration by the PID tracker; snapshot at the end of the iteration cut to the packets newer than the previous snapshot, events counted by babeltrace2 (exact lower bound) + overwritten packets from packet_seq_num x sub-buffer size / mean snapshot record size (estimate); bytes = record bytes (content minus packet headers)',
    details: {
      ...details,
      snapshotEvents: counter.events,
      snapshotRecordBytes: vol.snapshotRecordBytes,
      snapshotPackets: vol.snapshotPackets,
      producedPackets: vol.producedPackets,
      overwrittenPackets: vol.overwrittenPackets,
      meanRecordBytes: bytesPerEvent,
    },
  };
}

/** Armed names from armedCommands' output; throws naming every armed event this kernel's LTTng does not offer. */
export function parseLttngArmed(raw: string): string[] {
  const s = sections(raw);
  const available = new Set(parseMiAvailableEvents(s.available ?? ''));
  const syscalls = new Set(parseAvailableSyscalls(s.syscalls ?? ''));
  const session = parseMiSession(s.session ?? '');
  const armed: string[] = [];
  const unavailable: string[] = [];
  for (const ch of session.channels.filter((c) => c.enabled)) {
    for (const e of ch.events.filter((e) => e.enabled)) {
      if (e.type === 'TRACEPOINT') {
        // LTTng accepts any name and arms nothing when no probe provides it
        if (!e.name.includes('*') && !available.has(e.name)) unavailable.push(e.name);
        armed.push(e.name);
      } else if (e.type === 'SYSCALL') {
        if (e.name !== '*' && !syscalls.has(e.name)) unavailable.push(`syscall ${e.name}`);
        armed.push(`syscall_entry_${e.name}`, `syscall_exit_${e.name}`);
      } else armed.push(`${e.type.toLowerCase()}:${e.name}`);
    }
  }
  if (unavailable.length) {
    throw new TracebenchError({
      message: `lttng: this kernel's LTTng does not offer ${unavailable.join(', ')} (not in \`lttng list -k\`${unavailable.some((u) => u.startsWith('syscall ')) ? ' / `lttng list -k --syscall`' : ''})`,
      hint: 'check the probe module is built (lttng-modules build log, /usr/share/tracebench/lttng-modules.info) and the LTTng names in configs/instrumentation',
      exitCode: ExitCode.guest,
    });
  }
  return [...new Set(armed)].sort();
}

export function parseLttngVersion(raw: string): Record<string, string> {
  const s = sections(raw);
  const out: Record<string, string> = {};
  const tools = /lttng \(LTTng Trace Control\) (\S+)(?: - (.+))?/.exec(s.lttng ?? '');
  if (tools) out.lttngTools = tools[1];
  const sessiond = (s.sessiond ?? '').trim();
  if (sessiond) out.sessiond = sessiond.split('\n')[0];
  const mod = (s.modules ?? '').trim();
  if (mod) out.lttngModules = mod.split('\n')[0];
  const bt = /Babeltrace (\S+)/.exec(s.babeltrace2 ?? '');
  if (bt) out.babeltrace2 = bt[1];
  for (const line of (s.build ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[`build.${line.slice(0, i)}`] = line.slice(i + 1);
  }
  return out;
}

export const lttng: TracerDriver<LttngOptions> = {
  name: 'lttng',
  options: lttngOptions,
  nativeName: lttngNativeName,
  nativeFilter: lttngNativeFilter,
  image: {
    packages: ['lttng-tools', 'babeltrace2'],
    steps: [{ name: 'lttng-modules', dir: 'harness/tracers/lttng', script: 'build-in-image.sh' }],
    // a user-supplied kernel has no Debian headers package for DKMS: a wrapper builds against its tree (harness/image/local-kernel/lttng-modules.sh)
    localKernelScripts: { 'lttng-modules': '../../image/local-kernel/lttng-modules.sh' },
  },
  sourceAxis: {
    field: 'lttngModules',
    defaultWord: 'debian',
    defaultMeans: "Debian's lttng-modules-dkms package",
    step: 'lttng-modules',
    envVar: 'LTTNG_MODULES_SRC',
    tarball: true,
    marker: 'src/Kbuild',
    what: 'an lttng-modules (2.13 or later)',
  },
  versionCommands: () => [
    'echo "== lttng"; lttng --version',
    'echo "== sessiond"; lttng-sessiond --version',
    'echo "== modules"; modinfo -F version lttng-tracer',
    'echo "== babeltrace2"; babeltrace2 --version',
    `echo "== build"; cat ${INFO}`,
  ],
  parseVersion: parseLttngVersion,
  setup: (events, o, ctx) => {
    const streaming = o.mode === 'streaming';
    const mods = REQUIRED_MODULES.join(' ');
    return [
      `mkdir -p ${STATE}`,
      `rm -f ${STATE}/*`,
      // root's sessiond modprobes lttng-modules as it starts; --daemonize returns once it is ready
      `lttng-sessiond --daemonize${kmodProbes(events, o)}`,
      `for m in ${mods}; do grep -q "^$m " /proc/modules || { echo "lttng: module $m is not loaded after lttng-sessiond started: is lttng-modules built for $(uname -r)? (see ${INFO})" >&2; exit 1; }; done`,
      streaming
        ? `lttng create ${SESSION} --output ${streamDir(ctx)}`
        : `lttng create ${SESSION} --snapshot --output ${snapshotDir(ctx)}`,
      [
        `lttng enable-channel -k --session ${SESSION}`,
        `--subbuf-size=${o.subbufSizeKiB}k --num-subbuf=${o.numSubbuf}`,
        streaming ? '--discard' : '--overwrite',
        o.switchTimerUs ? `--switch-timer=${o.switchTimerUs}` : '',
        o.readTimerUs ? `--read-timer=${o.readTimerUs}` : '',
        CHANNEL,
      ]
        .filter(Boolean)
        .join(' '),
      ...enableEventLines(events),
      // record nothing until the first iteration's start (tracker: nobody) ...
      `lttng untrack --kernel --session=${SESSION} --all --pid`,
      // ... and register the probes now, once: the only text patching before teardown
      `lttng start ${SESSION}`,
      // the loss counters are cumulative: keep what they read before the first iteration
      `lttng --mi xml list ${SESSION} > ${STATE}/baseline.xml`,
    ];
  },
  armedCommands: () => [
    'echo "== available"; lttng --mi xml list -k',
    'echo; echo "== syscalls"; lttng list -k --syscall',
    `echo "== session"; lttng --mi xml list ${SESSION}`,
  ],
  parseArmed: parseLttngArmed,
  // every process records again; the session has been active since setup (see top)
  start: () => [`lttng track --kernel --session=${SESSION} --all --pid`],
  // nobody records; the probes stay registered, nothing is flushed yet (collect does)
  stop: () => [`lttng untrack --kernel --session=${SESSION} --all --pid`],
  collect: (o, ctx) => {
    if (o.mode === 'streaming') {
      const dir = streamDir(ctx);
      return [
        `rm -rf ${dir}/archives`,
        // flushes every stream and waits until the consumer wrote it all: the archive is this iteration's trace
        `lttng rotate ${SESSION} > /dev/null`,
        `n=$(find ${dir}/archives -mindepth 1 -maxdepth 1 -type d | wc -l)`,
        `[ "$n" -eq 1 ] || { echo "lttng: expected one trace chunk archive after lttng rotate, found $n in ${dir}/archives" >&2; exit 1; }`,
        `a=$(find ${dir}/archives -mindepth 1 -maxdepth 1 -type d)`,
        ...BASELINE_AND_LIST,
        `echo "== files"; find "$a" -type f -printf '%s %P\\n'`,
        countLine('"$a"', ctx),
        `rm -rf ${dir}/archives`,
      ];
    }
    const dir = snapshotDir(ctx);
    const record = [
      `rm -rf ${dir}`,
      // on an active session this flushes the packets being written (flush_empty): the iteration's last packet closes here
      `lttng snapshot record --session ${SESSION} > /dev/null`,
      ...BASELINE_AND_LIST,
    ];
    // the host walks the packets, cuts the snapshot and counts it (snapshot-host.ts)
    if (ctx.traceToHost) return [...record, countLine(dir, ctx), `rm -rf ${dir}`];
    return [
      ...record,
      `echo "== previous-packets"; cat ${STATE}/packets.txt 2>/dev/null || true`,
      `{`,
      ...packetDumpLines(dir),
      `} > ${STATE}/packets.new`,
      `echo "== packets"; cat ${STATE}/packets.new`,
      ...trimToNewPackets(dir),
      `echo "== files"; find ${dir} -type f -printf '%s %P\\n'`,
      countLine(dir, ctx),
      // the next iteration's packets are those above these sequence numbers
      `mv ${STATE}/packets.new ${STATE}/packets.txt`,
      `rm -rf ${dir}`,
    ];
  },
  parseStats: parseLttngStats,
  reduceOnHost: reduceLttngOnHost,
  // destroy unregisters the probes (text patching again): after the last workload
  teardown: () => [
    `lttng destroy ${SESSION} || true`,
    // sessiond writes its pid file in its root rundir
    'kill "$(cat /run/lttng/lttng-sessiond.pid)" || true',
  ],
  describe: (o) => ({
    mode: o.mode === 'streaming' ? 'streaming (discard mode, trace on tmpfs)' : 'flight-recorder (snapshot session, overwrite)',
    subbufSizeKiB: o.subbufSizeKiB,
    numSubbuf: o.numSubbuf,
    bufferKiBPerCpu: o.subbufSizeKiB * o.numSubbuf,
    bufferParity: `LTTng per-CPU buffer ${o.subbufSizeKiB * o.numSubbuf} KiB vs ftrace 1408 KiB: LTTng sizes are powers of two`,
    switchTimerUs: o.switchTimerUs ?? 'off',
    readTimerUs: o.readTimerUs ?? 200000,
    syscalls: 'enable-event -k --syscall (entry and exit together)',
    lifecycle:
      'lttng start once at the end of setup, lttng destroy in teardown (probe registration patches kernel text); per iteration only the PID tracker switches between all and nobody, which patches nothing',
    stateDump: 'runs inside the one lttng start, in setup; lttng_statedump_* not enabled, so not recorded',
    probes: o.probes === 'armed' ? 'only the probe modules of the armed tracepoints (lttng-sessiond --kmod-probes)' : 'every probe module (lttng-sessiond default)',
  }),
};
