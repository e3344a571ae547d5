// The only file that knows QEMU flags: a MachineSpec -> argv (pure).
import { ExitCode, TracebenchError } from '../errors.js';
import { guestCmdline } from './machine.js';

export type TcgThread = 'single' | 'multi';

export interface MachineSpec {
  accel: 'kvm' | 'tcg';
  cpus: number;
  memoryMiB: number;
  kernel: string;
  initrd: string;
  cmdline: string[];
  rootImage: string;
  scratchImage?: string;
  /** host directory exported to the guest over virtio-9p as mount tag "tb" */
  shareDir: string;
  name: string;
  /**
   * TCG only: how many host threads run the vCPUs. 'single' (the default): one
   * host thread for every vCPU (-accel tcg,thread=single). Multi-threaded TCG
   * ('multi', QEMU's own default: a host thread per vCPU) races every live patch of
   * kernel text against the other vCPUs into "Oops: int3", and a tracer's setup and
   * teardown patch text by nature (docs/reliability.md, "TCG oops: root cause").
   */
  tcgThread?: TcgThread;
  /**
   * TCG only: the guest clock counts executed instructions, 2^icountShift ns each
   * (-icount shift=N,sleep=on), instead of following the host's clock: what the
   * guest times is then instruction-time, which host load and steal cannot reach.
   */
  icountShift?: number;
  /**
   * The QEMU machine (default 'q35'). 'microvm' has no PCI bus, no ACPI PCI scan and
   * firmware that only loads the kernel: its virtio devices sit on MMIO. Under TCG it
   * reached the guest's init 1-2 s sooner than q35 (README.md, "The guest image").
   * The guest's drivers see virtio-mmio instead of virtio-pci, in the same order.
   * QemuMachine asks for it only under icount (qemu.ts: the TSC calibration).
   */
  machineType?: 'q35' | 'microvm';
  /** a QMP socket (KVM: the vCPU thread ids for pinning, qmp.ts) */
  qmpSocket?: string;
  /** back guest RAM with hugetlbfs pages (KVM hosts; mount at /dev/hugepages) */
  hugepages?: boolean;
}

/** QEMU option values are comma-separated: a literal comma is doubled (virtme-ng quote_optarg). */
export function quoteOptarg(value: string): string {
  if (/[\n\0]/.test(value)) {
    throw new TracebenchError({ message: `cannot pass ${JSON.stringify(value)} to QEMU: newline or NUL in a path`, exitCode: ExitCode.usage });
  }
  return value.replace(/,/g, ',,');
}

/** Kernel command line words cannot contain spaces or quotes without init-specific parsing. */
export function kernelWord(word: string): string {
  if (!/^[\x21-\x7e]+$/.test(word) || /["']/.test(word)) {
    throw new TracebenchError({ message: `kernel command line word ${JSON.stringify(word)} has spaces, quotes or control characters`, exitCode: ExitCode.usage });
  }
  return word;
}

export function qemuArgs(s: MachineSpec): string[] {
  const machine = s.machineType ?? 'q35';
  // a disk and the share: on PCI (q35: if=virtio, -virtfs) or on MMIO (microvm: a -device each)
  const disk = (id: string, file: string, opts: string) =>
    machine === 'microvm'
      ? ['-drive', `id=${id},file=${quoteOptarg(file)},format=raw,if=none,${opts}`, '-device', `virtio-blk-device,drive=${id}`]
      : ['-drive', `file=${quoteOptarg(file)},format=raw,if=virtio,${opts}`];
  const share =
    machine === 'microvm'
      ? ['-fsdev', `local,id=tb,path=${quoteOptarg(s.shareDir)},security_model=none`, '-device', 'virtio-9p-device,fsdev=tb,mount_tag=tb']
      : ['-virtfs', `local,path=${quoteOptarg(s.shareDir)},mount_tag=tb,security_model=none,id=tb`];
  const args = [
    // -name first so it shows in ps; debug-threads names the vCPU threads "CPU n/TCG",
    // so the host can tell the time they waited for a CPU (interference.ts)
    '-name', `guest=${quoteOptarg(s.name)},debug-threads=on`,
    ...(s.accel === 'tcg' ? ['-machine', machine, '-accel', `tcg,thread=${s.tcgThread ?? 'single'}`] : ['-machine', `${machine},accel=kvm`]),
    // "max" under TCG emulates every feature QEMU can; "host" passes the real CPU through
    '-cpu', s.accel === 'kvm' ? 'host' : 'max',
    // sleep=on: an idle guest's clock still follows real time (I/O waits stay real)
    ...(s.accel === 'tcg' && s.icountShift !== undefined ? ['-icount', `shift=${s.icountShift},sleep=on`] : []),
    '-smp', String(s.cpus),
    '-m', `${s.memoryMiB}M`,
    ...(s.hugepages ? ['-mem-path', '/dev/hugepages', '-mem-prealloc'] : []),
    '-kernel', quoteOptarg(s.kernel),
    '-initrd', quoteOptarg(s.initrd),
    '-append', s.cmdline.map(kernelWord).join(' '),
    // snapshot=on: writes go to a temporary overlay, so every boot starts from the same root
    ...disk('root', s.rootImage, 'snapshot=on'),
  ];
  if (s.scratchImage) {
    // the scratch disk is made fresh per boot; writeback cache is QEMU's default, stated here so it is recorded
    args.push(...disk('scratch', s.scratchImage, 'cache=writeback'));
  }
  args.push(
    ...share,
    '-nic', 'none',
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    ...(s.qmpSocket ? ['-qmp', `unix:${quoteOptarg(s.qmpSocket)},server=on,wait=off`] : []),
    // a panic reboots (panic=-1); -no-reboot turns that into QEMU exiting
    '-no-reboot',
  );
  return args;
}

/**
 * What a TCG guest's kernel command line starts with when its vCPUs may run on
 * several host threads (multi-threaded TCG: a local guest with tcgThread 'multi';
 * LAVA's no-KVM qemu device and the test lab box run single-threaded). Multi-threaded TCG can run a
 * stale translated block holding the temporary int3 of a text_poke_bp after the
 * patch is complete, and the guest dies with "Oops: int3" (docs/reliability.md,
 * "TCG oops: root cause"). These words keep the kernel from patching text while a
 * second vCPU runs, through the boot and up to the tracer's setup (not in it):
 * - tsc=reliable: the clocksource watchdog can otherwise mark the emulated TSC
 *   unstable at a random moment (emulation makes its timing jitter), which flips
 *   the sched_clock static key mid-run. The emulated TSC is one virtual clock for
 *   all vCPUs: it is reliable.
 * - maxcpus=1: the kernel boots on one CPU, so its own boot-time patching (the
 *   late initcall that enables the __sched_clock_stable key, module loading in
 *   tb-init) happens with nothing else running; the job brings the other CPUs
 *   online first thing, before any tracer or workload (job.ts onlineCpusLines),
 *   and fails if they do not all come up.
 * - no_ipi_broadcast=1: bringing a CPU up enables the apic_use_ipi_shorthand key
 *   once every present CPU has booted (arch_smt_update), patching 2 sites while
 *   the new CPU runs; off, it is never flipped (measured by
 *   test/diag/cpu-online-pokes.ts: 1 batch / 2 sites with it on, 0 without). An
 *   IPI to all others is then one IPI per other CPU: with 2 vCPUs, the same one IPI.
 * A tracer's setup and teardown still patch text with both vCPUs up (one boot in
 * 30 of the multi-threaded soak oopsed in LTTng's teardown), so a local TCG guest
 * runs single-threaded TCG and needs only TCG_SINGLE_CMDLINE.
 */
export const TCG_CMDLINE = ['tsc=reliable', 'maxcpus=1', 'no_ipi_broadcast=1'];

/**
 * A TCG guest whose vCPUs all run on one host thread (-accel tcg,thread=single,
 * every local TCG boot by default): no vCPU ever runs while another patches text,
 * so the only word left is tsc=reliable, which keeps the clocksource (and with it
 * the cost of a timestamp) from changing mid-run.
 */
export const TCG_SINGLE_CMDLINE = ['tsc=reliable'];

/**
 * Boot time a local TCG guest does not spend: the crypto API's self-tests, run as each
 * algorithm registers and again when the first module signature is checked, took 1-2 s
 * of host time per boot under emulation (initcall_debug). Nothing measured uses them;
 * they check the kernel's crypto implementations, which a run does not exercise.
 */
export const TCG_BOOT_CMDLINE = ['cryptomgr.notests'];

/**
 * Under icount the jitterentropy RNG times itself with the instruction counter: its
 * "jitter" is a function of the instructions it ran, not entropy, and its start-up
 * health test took 1.9 s of instruction-time (~0.9 s of host time) of every boot
 * (initcall_debug). Only the crypto API's DRBG seeds from it, and outside FIPS mode it
 * continues without; the kernel's own RNG (get_random_bytes, /dev/urandom) never uses it.
 */
export const ICOUNT_BOOT_CMDLINE = ['initcall_blacklist=jent_mod_init'];

/** The kernel command line of a local QEMU guest; KVM boots the stock one. */
export function baseCmdline(accel: 'kvm' | 'tcg', extra: string[] = [], tcgThread: TcgThread = 'single', icount?: number): string[] {
  const first =
    accel === 'kvm' ? [] : [...(tcgThread === 'multi' ? TCG_CMDLINE : TCG_SINGLE_CMDLINE), ...TCG_BOOT_CMDLINE, ...(icount === undefined ? [] : ICOUNT_BOOT_CMDLINE)];
  // the job share over 9p, the scratch disk second after the root; QEMU exits when the guest powers off
  return guestCmdline({ first, console: 'ttyS0', root: '/dev/vda', share: '9p:tb', scratch: '/dev/vdb', end: 'poweroff' }, extra);
}
