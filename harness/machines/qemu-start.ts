// QEMU that never started a guest is a HOST problem (exit 3), not a guest
// failure (exit 4): a missing binary, an argv QEMU rejects, an image it cannot
// open, or KVM it cannot initialise fails every boot the same way, so the run
// stops and says what to fix instead of recording boot after boot as failed.
import { ExitCode, TracebenchError } from '../errors.js';

export type QemuStartFailure = 'binary-missing' | 'not-executable' | 'kvm' | 'cannot-open' | 'bad-argv' | 'other';

export class QemuStartError extends TracebenchError {
  readonly reason: QemuStartFailure;
  /** QEMU's own error lines (stderr), warnings left out */
  readonly qemuOutput: string;
  constructor(reason: QemuStartFailure, message: string, hint: string, qemuOutput: string) {
    super({ message, hint, exitCode: ExitCode.host });
    this.name = 'QemuStartError';
    this.reason = reason;
    this.qemuOutput = qemuOutput;
  }
}

export interface StartOutcome {
  binary: string;
  /** errno code when the process could not be spawned at all (ENOENT, EACCES) */
  spawnCode?: string;
  /** QEMU's exit status; undefined when it was killed by a signal */
  exitCode?: number;
  timedOut: boolean;
  /** the guest printed something on its serial console (stdout) or a TB-MARK was seen */
  guestStarted: boolean;
  /** QEMU's stderr */
  stderr: string;
}

/** "qemu-system-x86_64: warning: ..." lines are printed by runs that work (CPU features under TCG) */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^[\w.-]*: warning: /i.test(l));
}

// First match wins: a KVM failure also says "No such file or directory" for /dev/kvm.
const REASONS: { reason: QemuStartFailure; re: RegExp; hint: string }[] = [
  {
    reason: 'kvm',
    re: /kvm/i,
    hint: 'is /dev/kvm there and read-writable by this user (group kvm)? or run with --accel tcg (emulated)',
  },
  {
    reason: 'cannot-open',
    re: /could not open|could not load|could not access|failed to get .*lock|no such file|permission denied|image is not in|could not read/i,
    hint: 'a file QEMU was given (kernel, initrd, root or scratch image) is missing, unreadable or in use: rebuild with `tracebench image build` or check the paths above',
  },
  {
    reason: 'bad-argv',
    re: /invalid option|invalid parameter|requires an argument|expects|unsupported|not supported|unknown|property .* not found|is not a valid|parse error/i,
    hint: 'this QEMU rejects an option tracebench passes: `tracebench bench --show-command` prints the argv; `tracebench doctor` names the QEMU version',
  },
];

/**
 * Did QEMU fail to start? Only when it could not be spawned, or exited with a
 * non-zero status of its own (not a signal, not our timeout) before the guest
 * printed anything: once the guest runs, a failure is the guest's.
 */
export function startFailure(o: StartOutcome): QemuStartError | undefined {
  if (o.spawnCode === 'ENOENT') {
    return new QemuStartError('binary-missing', `QEMU did not start: ${o.binary} not found`, 'install it: apt-get install -y qemu-system-x86 (or `tracebench doctor --install`)', '');
  }
  if (o.spawnCode === 'EACCES') {
    return new QemuStartError('not-executable', `QEMU did not start: ${o.binary} is not executable`, `check the permissions of ${o.binary}`, '');
  }
  if (o.spawnCode) {
    return new QemuStartError('other', `QEMU did not start: ${o.binary}: ${o.spawnCode}`, 'see the error above', '');
  }
  if (o.timedOut || o.guestStarted || o.exitCode === undefined || o.exitCode === 0) return undefined;
  const lines = errorLines(o.stderr);
  const said = lines.join(' | ') || '(no message)';
  const found = REASONS.find((r) => lines.some((l) => r.re.test(l)));
  return new QemuStartError(
    found?.reason ?? 'other',
    `QEMU failed to start (exit ${o.exitCode}) before the guest ran: ${said}`,
    found?.hint ?? 'see QEMU\'s message above; `tracebench bench --show-command` prints the argv',
    lines.join('\n'),
  );
}
