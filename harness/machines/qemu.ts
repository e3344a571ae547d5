// Boots one guest under QEMU and reports how it ended. This module (with the
// image builder) is the only place that starts processes.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { qemuArgs, type MachineSpec } from './qemu-args.js';
import { startFailure } from './qemu-start.js';
import { snapshot, type HostSampler } from './interference.js';

export type BootStatus = 'finished' | 'timeout' | 'panic' | 'job-failed';

export interface BootResult {
  status: BootStatus;
  message?: string;
  wallS: number;
  consoleTail: string;
  /** seconds from QEMU start to each TB-MARK line, in order */
  marks: { text: string; atS: number }[];
  exitCode: number | null;
}

export interface BootRequest {
  spec: MachineSpec;
  timeoutS: number;
  consoleLog: string;
  /** called for each TB-MARK progress line the guest prints, with the host's counters at hand */
  onMark?: (text: string, atS: number, host: HostSampler) => void;
  /** called every 200 ms while the guest runs (the host side of the verdict handshake) */
  onTick?: () => void;
}

export interface Machine {
  /** rejects with QemuStartError (a host error, exit 3) when QEMU never started the guest */
  boot(req: BootRequest): Promise<BootResult>;
}

const PANIC = /Kernel panic - not syncing|BUG: kernel NULL pointer|Oops: |general protection fault/;

export function classify(consoleText: string, timedOut: boolean, jobRc: number | null): { status: BootStatus; message?: string } {
  const panic = consoleText.split('\n').find((l) => PANIC.test(l));
  if (panic) return { status: 'panic', message: panic.trim() };
  if (timedOut) return { status: 'timeout' };
  const failed = /TB-MARK job-failed (\S+)/.exec(consoleText);
  if (failed) return { status: 'job-failed', message: `guest job stopped at ${failed[1]}` };
  if (jobRc === null || !/TB-MARK job-end/.test(consoleText)) return { status: 'job-failed', message: 'the guest powered off before the job ended' };
  if (jobRc !== 0) return { status: 'job-failed', message: `guest job exited ${jobRc}` };
  return { status: 'finished' };
}

export class QemuMachine implements Machine {
  constructor(private readonly qemuBinary = 'qemu-system-x86_64') {}

  async boot(req: BootRequest): Promise<BootResult> {
    const started = Date.now();
    const since = () => (Date.now() - started) / 1000;
    const log = createWriteStream(req.consoleLog);
    const marks: BootResult['marks'] = [];
    let tail = '';
    // detached: QEMU gets its own process group, so a timeout kills everything it started
    const child = execa(this.qemuBinary, qemuArgs(req.spec), {
      detached: true,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
    });
    const host: HostSampler = { guestPid: child.pid, snapshot: () => snapshot(child.pid) };
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.write(text);
      tail = (tail + text).slice(-64 * 1024);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /TB-MARK (.*?)(?: up=[\d.]+)?\r?$/.exec(line);
        if (m) {
          marks.push({ text: m[1], atS: since() });
          req.onMark?.(m[1], since(), host);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // kept apart from the console: QEMU's own errors tell a host failure from a guest one
    let qemuStderr = '';
    let guestOutput = false;
    child.stdout?.once('data', () => (guestOutput = true));
    child.stderr?.on('data', (c: Buffer) => (qemuStderr = (qemuStderr + c.toString('utf8')).slice(-16 * 1024)));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, req.timeoutS * 1000);
    const tick = setInterval(() => req.onTick?.(), 200);
    // an interrupted host run must not leave a guest behind
    const onSignal = () => killGroup();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const result = await child;
    clearTimeout(timer);
    clearInterval(tick);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await new Promise<void>((r) => log.end(r));
    // QEMU that never ran the guest (missing binary, rejected argv, unopenable image, KVM): a host error, exit 3
    const notStarted = startFailure({
      binary: this.qemuBinary,
      spawnCode: result.failed && result.exitCode === undefined && !result.signal ? (result as { code?: string }).code : undefined,
      exitCode: result.exitCode,
      timedOut,
      guestStarted: guestOutput || marks.length > 0,
      stderr: qemuStderr,
    });
    if (notStarted) throw notStarted;
    const consoleText = readFileSync(req.consoleLog, 'utf8');
    const rcFile = `${req.spec.shareDir}/out/job.rc`;
    const jobRc = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : null;
    const verdict = classify(consoleText, timedOut, jobRc);
    // QEMU killed from outside mid-run (OOM killer, an operator): name the signal, not "powered off"
    if (verdict.status === 'job-failed' && jobRc === null && result.signal && !timedOut && marks.length) {
      verdict.message = `QEMU was killed by ${result.signal} before the guest job ended`;
    }
    if (verdict.status === 'job-failed' && jobRc === null && result.exitCode !== 0 && !marks.length) {
      verdict.message = `QEMU exited (${result.exitCode ?? result.signal}) before the guest started: ${tail.trim().split('\n').slice(-3).join(' | ')}`;
    }
    return { ...verdict, wallS: since(), consoleTail: tail.split('\n').slice(-40).join('\n'), marks, exitCode: result.exitCode ?? null };
  }
}
