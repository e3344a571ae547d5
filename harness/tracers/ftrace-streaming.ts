// ftrace streaming mode: the guest fragments of the per-CPU readers and the
// host-side reading of what collect printed. Pure: returns shell lines, parses text.
//
// Why dd in a loop reading only full pages, and not one blocking `cat` per CPU:
// a read() of trace_pipe_raw (tracing_buffers_read) waits for *any* data, not a
// full page (only splice honours buffer_percent), and every read returns a whole
// page however few events it holds. A reader that reads whenever data is there
// chases the writer: in a 6.12 guest under TCG a first version that drained
// everything every 100 ms (and traced its own reads) wrote 150 bytes per event on
// the syscall loop; a full page holds ~85 events of ~48 bytes. So, like trace-cmd's recorders (sleep, then
// splice full pages only), each reader sleeps between passes and a pass reads
// only the pages known to be full: the CPU's unread byte count (`bytes` in
// per_cpu/cpuN/stats) divided by the page size, rounded down, never exceeds the
// number of full pages, since the page being written holds less than a page.
//
// Readers are not traced: their PIDs go to set_event_notrace_pid with
// options/event-fork on (so the dd and sleep they fork are filtered too), as
// trace-cmd filters its own recorders. Otherwise every read would add events to
// the buffer being read. Each reader spins on shell builtins until its PID is
// listed, so nothing it forks escapes the filter.
//
// Draining. With tracing_on=0 nothing new is written, so one more non-blocking
// pass returns everything left, the partly filled page included (read() copies
// partial pages; splice would not). `stop` turns tracing off, then raises a flag;
// each reader, seeing it, makes that last pass and writes a done marker. The
// readers finish by themselves: killing one could lose a page it has consumed
// but not yet written, and the bytes would no longer be exact.
//
// Guest init (PID 1, a plain sh) does not reap orphans, so a reader's PID stays
// valid as a zombie after it exits: `stop` waits for done markers, never for PIDs.
// The PIDs file is only used to kill readers left behind by a failed stop.
import { ExitCode, ParseError, TracebenchError } from '../errors.js';
import type { GuestContext } from '../types.js';

/** guest-side control files (tmpfs): reader PIDs, stop flag, done markers, reader errors */
export const STREAM_STATE = '/tmp/tracebench-ftrace';
const rawDir = (ctx: GuestContext) => `${ctx.traceDir}/ftrace`;

/**
 * How long `stop` waits for every reader to finish its last pass. Draining is
 * at most one buffer (1408 KiB by default) per CPU into tmpfs, under a second
 * even under TCG; a reader may also be in its sleep. 60 s is a wide margin.
 */
const DRAIN_TIMEOUT_S = 60;

/**
 * A pass that found at least this many full pages (64 KiB of 4 KiB pages) is
 * followed by another at once: the writer is fast, and a sleep would let the
 * buffer fill. Below it the reader sleeps, so a trickle costs few wake-ups.
 */
const BUSY_PAGES = 16;

/** dd's message when a non-blocking read finds the buffer empty: the normal end of a pass */
const EAGAIN = 'Resource temporarily unavailable';

/** The body of one CPU's reader; `$c` is per_cpu/cpuN, `$n` its number, `$page` the page size in bytes. */
function readerLoop(ctx: GuestContext, intervalMs: number): string[] {
  const S = STREAM_STATE;
  const sleepS = (intervalMs / 1000).toString();
  return [
    `  (`,
    // builtins only until start has put this PID in set_event_notrace_pid
    `    while [ ! -e ${S}/go ]; do :; done`,
    `    last=`,
    `    while [ -z "$last" ]; do`,
    // tracing is already off when the flag appears: this pass drains the rest, partial page included
    `      if [ -e ${S}/stop ]; then last=1; count=; pages=0; else`,
    `        b=0; while read -r k v; do case "$k" in bytes:) b=$v ;; esac; done < $c/stats`,
    `        pages=$((b / page)); count=count=$pages`,
    `      fi`,
    // bs larger than a page: each read() returns at most one page, written as is
    `      if [ "$count" != count=0 ]; then`,
    `        dd if=$c/trace_pipe_raw of=${rawDir(ctx)}/cpu$n.raw iflag=nonblock oflag=append conv=notrunc bs=1M $count status=none 2> ${S}/cpu$n.err || true`,
    // keep anything but the EAGAIN that ends a draining pass; the host reports it
    `        case "$(cat ${S}/cpu$n.err)" in ''|*'${EAGAIN}') ;; *) cat ${S}/cpu$n.err >> ${S}/cpu$n.log ;; esac`,
    `      fi`,
    // a fast writer: go again at once rather than let the buffer fill during the sleep
    `      [ -n "$last" ] || [ $pages -ge ${BUSY_PAGES} ] || sleep ${sleepS}`,
    `    done`,
    `    : > ${S}/cpu$n.done`,
    `  ) > /dev/null 2>&1 < /dev/null &`,
    `  echo $! >> ${S}/pids`,
  ];
}

/**
 * A process that lives for the whole boot and whose PID holds the notrace list
 * non-empty. The kernel registers its PID-filter probes (sched_switch,
 * sched_wakeup, sched_process_fork/free ...) when the list goes from empty to
 * non-empty and unregisters them when it is cleared: flipping those tracepoints'
 * static keys patches kernel text, which multi-threaded TCG races into an oops
 * (docs/reliability.md). So the list is filled once here, before the workloads;
 * each start only appends its readers (`>>`, no O_TRUNC, so nothing is cleared)
 * and exiting readers leave it by themselves (event-fork's sched_process_free
 * probe removes them). Only teardown clears it.
 */
const PLACEHOLDER = '/tmp/tracebench-ftrace-placeholder.pid';

/** setup additions: children of listed PIDs inherit the notrace filter; the list is armed once */
export function streamingSetup(T: string): string[] {
  return [
    `echo 1 > ${T}/options/event-fork`,
    `echo > ${T}/set_event_notrace_pid`,
    `sleep infinity > /dev/null 2>&1 < /dev/null &`,
    `echo $! > ${PLACEHOLDER}`,
    `echo $! > ${T}/set_event_notrace_pid`,
  ];
}

/** start: reset buffers and counters, one reader per CPU, then tracing on. */
export function streamingStart(T: string, ctx: GuestContext, intervalMs: number): string[] {
  const S = STREAM_STATE;
  return [
    // writing to `trace` resets every per-CPU buffer and its counters, so each
    // iteration's stats count only that iteration
    `echo > ${T}/trace`,
    `rm -rf ${S} ${rawDir(ctx)}`,
    `mkdir -p ${S} ${rawDir(ctx)}`,
    `: > ${S}/pids`,
    // the ring-buffer page (sub-buffer) size: buffer_subbuf_size_kb since 6.8, a 4 KiB page before
    `page=$(( $(cat ${T}/buffer_subbuf_size_kb 2> /dev/null || echo 4) * 1024 ))`,
    `for c in ${T}/per_cpu/cpu*; do`,
    `  n=\${c##*/cpu}`,
    ...readerLoop(ctx, intervalMs),
    `done`,
    // append, never truncate: clearing the list would unregister the PID-filter probes (see PLACEHOLDER)
    `echo $(cat ${S}/pids) >> ${T}/set_event_notrace_pid`,
    `: > ${S}/go`,
    `echo 1 > ${T}/tracing_on`,
  ];
}

/** stop: tracing off, then every reader drains what is left and exits. */
export function streamingStop(T: string): string[] {
  const S = STREAM_STATE;
  const tenths = DRAIN_TIMEOUT_S * 10;
  return [
    `echo 0 > ${T}/tracing_on`,
    `: > ${S}/stop`,
    `for c in ${T}/per_cpu/cpu*; do`,
    `  n=\${c##*/cpu}; i=0`,
    `  while [ ! -e ${S}/cpu$n.done ]; do`,
    `    i=$((i + 1))`,
    `    if [ $i -gt ${tenths} ]; then`,
    `      echo "ftrace: the trace_pipe_raw reader of cpu$n did not finish draining within ${DRAIN_TIMEOUT_S} s; killing the readers" >&2`,
    `      kill $(cat ${S}/pids) 2> /dev/null || true`,
    `      exit 1`,
    `    fi`,
    `    sleep 0.1`,
    `  done`,
    `done`,
    // every reader has exited: nothing left for teardown to kill
    `rm -f ${S}/pids`,
  ];
}

/** collect (after the per_cpu stats): sizes of the raw files, reader errors, then delete the files. */
export function streamingCollect(ctx: GuestContext): string[] {
  const S = STREAM_STATE;
  const D = rawDir(ctx);
  return [
    `echo "== raw"`,
    `for f in ${D}/cpu*.raw; do if [ -e "$f" ]; then echo "\${f##*/} $(stat -c %s "$f")"; fi; done`,
    `echo "== reader-errors"`,
    `cat ${S}/cpu*.log 2> /dev/null || true`,
    // the next iteration must not find this one's trace, nor fill the tmpfs with it
    `rm -f ${D}/cpu*.raw`,
  ];
}

/** teardown: a stop that failed may have left readers running. */
export function streamingTeardown(T: string): string[] {
  const S = STREAM_STATE;
  return [
    `[ ! -s ${S}/pids ] || kill $(cat ${S}/pids) 2> /dev/null || true`,
    `[ ! -s ${PLACEHOLDER} ] || kill $(cat ${PLACEHOLDER}) 2> /dev/null || true`,
    `echo > ${T}/set_event_notrace_pid`,
    `echo 0 > ${T}/options/event-fork`,
  ];
}

export interface StreamingCollect {
  /** the per_cpu stats part, for parseFtraceStats */
  statsRaw: string;
  /** "cpuN" -> bytes the reader of that CPU wrote */
  rawFiles: Record<string, number>;
}

/** Split the streaming collect output; a reader error means the bytes are not exact, so it throws. */
export function parseStreamingCollect(raw: string): StreamingCollect {
  const lines = raw.split('\n');
  const rawAt = lines.findIndex((l) => l.trim() === '== raw');
  if (rawAt < 0) throw new ParseError('ftrace streaming collect', 'no "== raw" section (sizes of the trace_pipe_raw files)');
  const errAt = lines.findIndex((l, i) => i > rawAt && l.trim() === '== reader-errors');
  const end = errAt < 0 ? lines.length : errAt;
  const rawFiles: Record<string, number> = {};
  lines.slice(rawAt + 1, end).forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^(cpu\d+)\.raw (\d+)$/.exec(line.trim());
    if (!m) throw new ParseError('ftrace streaming collect', 'expected "cpuN.raw <bytes>"', rawAt + 2 + i, line);
    rawFiles[m[1]] = Number(m[2]);
  });
  const errors = errAt < 0 ? [] : lines.slice(errAt + 1).map((l) => l.trim()).filter(Boolean);
  if (errors.length) {
    throw new TracebenchError({
      message: `ftrace streaming: a trace_pipe_raw reader failed, so the trace bytes are not exact: ${errors.join('; ')}`,
      hint: 'a full tmpfs (ENOSPC) is the usual cause: give the guest more memory or use a shorter workload',
      exitCode: ExitCode.guest,
    });
  }
  return { statsRaw: lines.slice(0, rawAt).join('\n'), rawFiles };
}
