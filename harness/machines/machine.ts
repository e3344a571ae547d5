// The boundary between the harness and whatever runs a kernel under test: a
// local QEMU guest (qemu.ts) or a bare-metal lab box reached over ssh and kexec
// (ssh-kexec.ts). The harness hands a Machine the kernel artefacts, the extra
// kernel command line and a host directory holding the job; the Machine carries
// the job in and brings back, into that same directory, the guest's out/ (raw
// outputs, job.rc), its console and progress marks. Devices, 9p tags, `root=`
// and how a boot ends are each Machine's own business.
import type { HostSampler } from './interference.js';
import type { HostFacts } from './host-facts.js';

export type BootStatus = 'finished' | 'timeout' | 'panic' | 'job-failed';

/** The built image of one kernel entry: what every backend boots. */
export interface BootImage {
  kernel: string;
  initrd: string;
  /** a minimal initramfs for a virtio root (QEMU boots it instead of `initrd`); lab boxes and LAVA boot `initrd` */
  virtioInitrd?: string;
  /**
   * the kernel as an uncompressed vmlinux with a PVH entry: QEMU boots it instead of
   * `kernel` (no decompressor, so no KASLR); lab boxes and LAVA boot `kernel`
   */
  pvhKernel?: string;
  /**
   * `virtioInitrd` drives virtio over MMIO, so QEMU can boot the guest as a microvm
   * (qemu-args.ts MachineSpec.machineType); lab boxes and LAVA boot their own machines
   */
  microvm?: boolean;
  /** the ext4 root filesystem image (label tbroot) */
  root: string;
  /** content key of the image (a lab box keeps one prepared root per key) */
  key?: string;
}

export interface BootRequest {
  /** names the boot (process lists, logs): tracebench-<boot id> */
  name: string;
  image: BootImage;
  /** kernel command line words the configuration adds (a tracer's boot options) */
  extraCmdline: string[];
  /** guest size; a lab box has its own CPUs and memory and records them instead */
  cpus: number;
  memoryMiB: number;
  /** GiB of the fresh ext4 scratch disk made for this boot; 0: none */
  scratchGiB: number;
  /**
   * Host directory of this boot: job.sh and frag/ in, out/ (and ctl/ answers)
   * exchanged while the guest runs, console.log written by the machine.
   */
  jobDir: string;
  /** seconds the whole boot may take before the machine stops it */
  timeoutS: number;
  /**
   * Called for each TB-MARK progress line, with the host's counters when the
   * machine runs on this host (interference can only be measured there).
   */
  onMark?: (text: string, atS: number, host?: HostSampler) => void;
  /** called every 200 ms while the guest runs (the host side of the verdict handshake) */
  onTick?: () => void;
  /** true once the user interrupted the run: no kernel may start after that (BootCancelled) */
  cancelled?: () => boolean;
}

/** Thrown by boot() when the run was interrupted before the kernel under test started. */
export class BootCancelled extends Error {
  constructor(name: string) {
    super(`${name}: not started, the run was interrupted`);
  }
}

export interface BootResult {
  status: BootStatus;
  message?: string;
  wallS: number;
  consoleTail: string;
  /** seconds from the boot's start to each TB-MARK line, in order */
  marks: { text: string; atS: number }[];
  exitCode: number | null;
  /** the machine's facts as this boot saw them (a lab box: per boot) */
  facts?: MachineFacts;
  /** backend details worth keeping with the boot record (kexec timings, boot ids ...) */
  details?: Record<string, string | number>;
  /** the machine the kernel ran on, when a backend has several (a LAVA device): the statistics' block */
  device?: string;
}

/** What a run records about the machine that ran it (both backends). */
export interface MachineFacts extends HostFacts {
  /** qemu | ssh://user@host:port */
  machine: string;
  /** a lab box: the kernel of the base OS that kexecs each kernel under test */
  baseKernel?: string;
  /** a lab box: the facts as the kernel under test saw them (governor, turbo: its own, not the base OS's) */
  underTest?: HostFacts;
}

export interface Machine {
  /** qemu or the lab box's URI, for messages and the manifest */
  readonly uri: string;
  /** whether this host's counters see the guest's CPU use (interference.ts): only a local guest */
  readonly measuresInterference: boolean;
  /** a one-line description of how the kernel under test is reached, for the manifest */
  readonly method: string;
  /**
   * whether the job's output directory comes back whole (a 9p share, ssh), so a
   * tracer may hand its raw per-iteration trace to the host (GuestContext.traceToHost);
   * unset or false: only small text comes back (LAVA's console frames)
   */
  readonly bulkOutputs?: boolean;
  /** fails fast (exit 3, naming the machine) when it cannot be used, before any image is built */
  check(): Promise<void>;
  /** puts an image where the machine boots it from (a lab box: root partition, kernel, initrd) */
  prepare(image: BootImage): Promise<void>;
  /** the facts of the machine now (CPU, governor, turbo, SMT, ...) */
  facts(): Promise<MachineFacts>;
  /** boots one kernel under test and runs its job; rejects only for host-side failures (exit 3) */
  boot(req: BootRequest): Promise<BootResult>;
  /** undoes whatever check/prepare/tuning set up (idempotent) */
  close(): Promise<void>;
  /** a resumed run: the devices its recorded boots ran on (a fleet pins the rest to the same one) */
  resumeOn?(devices: string[]): void;
}

/**
 * The kernel command line of a kernel under test, on every backend (pure): where
 * tb-init finds its root, job share and scratch disk, and how the boot ends
 * (guest-init.sh). A panic or oops ends the boot at once (panic=-1): QEMU exits
 * (-no-reboot), a lab box reboots to its base OS.
 */
export function guestCmdline(o: { console: string; root: string; share: string; scratch: string; end: 'poweroff' | 'reboot'; first?: string[]; last?: string[] }, extra: string[]): string[] {
  return [...(o.first ?? []), `console=${o.console}`, `root=${o.root}`, 'ro', 'init=/sbin/tb-init', `tb.share=${o.share}`, `tb.scratch=${o.scratch}`, `tb.end=${o.end}`, 'panic=-1', 'oops=panic', 'quiet', ...(o.last ?? []), ...extra];
}

const PANIC = /Kernel panic - not syncing|BUG: kernel NULL pointer|Oops: |general protection fault/;

/** How a boot ended, from its console, whether it timed out and the job's exit code (both backends). */
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

/** A TB-MARK line of the console, without its uptime suffix. */
export function markOf(line: string): string | undefined {
  return /TB-MARK (.*?)(?: up=[\d.]+)?\r?$/.exec(line)?.[1];
}
