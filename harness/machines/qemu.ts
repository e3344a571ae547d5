// The local Machine: boots one guest under QEMU (9p job share, a fresh scratch
// disk per boot) and reports how it ended.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { baseCmdline, qemuArgs, type MachineSpec, type TcgThread } from './qemu-args.js';
import { localHostFacts } from './host-facts.js';
import { tunePlan } from './tune.js';
import { pinPlan, pinVcpus, vcpuThreads } from './qmp.js';
import { makeScratch, removeScratch } from './scratch.js';
import { BootCancelled, classify, markOf, type BootRequest, type BootResult, type Machine, type MachineFacts } from './machine.js';
import { startFailure } from './qemu-start.js';
import { snapshot, type HostSampler } from './interference.js';

export type { BootRequest, BootResult, BootStatus, Machine } from './machine.js';
export { classify } from './machine.js';

export interface QemuMachineOptions {
  accel: 'kvm' | 'tcg';
  /** TCG only: one host thread for every vCPU ('single', the default) or one per vCPU (MachineSpec.tcgThread) */
  tcgThread?: TcgThread;
  binary?: string;
  /** where per-boot scratch disks are made (host.ts scratchDir) */
  scratchDir: string;
  /** injected in tests: makes / removes a scratch disk image */
  makeScratch?: (path: string, gib: number) => Promise<void>;
  removeScratch?: (path: string) => void;
  /** KVM host only: performance governor and turbo off for the run, restored by close() */
  tune?: boolean;
  /** KVM only: pin each vCPU thread to its own host core */
  pinVcpus?: boolean;
  /** KVM only: guest RAM from hugepages */
  hugepages?: boolean;
  /** TCG only: the guest clock counts instructions, 2^icount ns each (MachineConfig.icount) */
  icount?: number;
  /** kernel command line words for every boot on this machine, before the configuration's own (MachineConfig.cmdline) */
  cmdline?: string[];
}

export class QemuMachine implements Machine {
  readonly uri = 'qemu';
  readonly measuresInterference = true;
  readonly bulkOutputs = true;
  readonly method: string;
  private readonly qemuBinary: string;
  constructor(private readonly o: QemuMachineOptions) {
    this.qemuBinary = o.binary ?? 'qemu-system-x86_64';
    this.method = `QEMU ${o.accel.toUpperCase()} guest on this host, -kernel direct boot, root snapshot=on, 9p job share`;
  }

  private restore: string[] = [];
  private tuned = false;

  async check(): Promise<void> {}

  /** Tuning belongs to the host that runs the guests: only under KVM (a TCG guest's speed is the emulator's). */
  async prepare(): Promise<void> {
    if (!this.o.tune || this.o.accel !== 'kvm' || this.tuned) return;
    this.tuned = true;
    const plan = tunePlan(await localHostFacts());
    for (const line of plan.apply) await execa('sh', ['-c', line]);
    this.restore = plan.restore;
  }

  async close(): Promise<void> {
    const lines = this.restore;
    this.restore = [];
    for (const line of lines) await execa('sh', ['-c', line], { reject: false });
  }

  async facts(): Promise<MachineFacts> {
    return { ...(await localHostFacts()), machine: this.uri };
  }

  /** The argv this machine would run for a request (bench --show-command, the manifest). */
  spec(req: Pick<BootRequest, 'name' | 'image' | 'extraCmdline' | 'cpus' | 'memoryMiB' | 'jobDir'>, scratchImage?: string): MachineSpec {
    const kvm = this.o.accel === 'kvm';
    // icount is a TCG clock: under KVM it is ignored (with a note, bench.ts icountNotes)
    const icount = kvm ? undefined : this.o.icount;
    return {
      accel: this.o.accel,
      ...(kvm && this.o.pinVcpus ? { qmpSocket: join(req.jobDir, 'qmp.sock') } : {}),
      ...(kvm && this.o.hugepages ? { hugepages: true } : {}),
      ...(kvm ? {} : { tcgThread: this.o.tcgThread ?? 'single' }),
      ...(icount !== undefined ? { icountShift: icount } : {}),
      // microvm has no HPET or ACPI PM timer: the kernel calibrates the TSC against the
      // PIT alone, which under TCG on the host's clock failed in 3 of 6 boots ("Unable to
      // calibrate against PIT", TSC unstable, then no progress). Under icount both count
      // instructions and it held in every boot; KVM keeps q35 as on a lab machine.
      ...(req.image.microvm && icount !== undefined ? { machineType: 'microvm' as const } : {}),
      cpus: req.cpus,
      memoryMiB: req.memoryMiB,
      kernel: req.image.pvhKernel ?? req.image.kernel,
      initrd: req.image.virtioInitrd ?? req.image.initrd,
      cmdline: baseCmdline(this.o.accel, [...(this.o.cmdline ?? []), ...req.extraCmdline], this.o.tcgThread, icount),
      rootImage: req.image.root,
      scratchImage,
      shareDir: req.jobDir,
      name: req.name,
    };
  }

  async boot(req: BootRequest): Promise<BootResult> {
    const scratch = req.scratchGiB > 0 ? join(this.o.scratchDir, `${req.name}-${process.pid}.img`) : undefined;
    if (scratch) await (this.o.makeScratch ?? makeScratch)(scratch, req.scratchGiB);
    try {
      if (req.cancelled?.()) throw new BootCancelled(req.name);
      // the host's facts at this boot (governor, turbo ... can change between boots of a long run)
      const facts = await this.facts().catch(() => undefined);
      return { ...(await this.run(req, this.spec(req, scratch), facts?.onlineCpus ?? [])), ...(facts ? { facts } : {}) };
    } finally {
      if (scratch) (this.o.removeScratch ?? removeScratch)(scratch);
    }
  }

  private async run(req: BootRequest, spec: MachineSpec, hostCpus: number[]): Promise<BootResult> {
    const started = Date.now();
    const since = () => (Date.now() - started) / 1000;
    const consoleLog = join(req.jobDir, 'console.log');
    const log = createWriteStream(consoleLog);
    const marks: BootResult['marks'] = [];
    let tail = '';
    // detached: QEMU gets its own process group, so a timeout kills everything it started
    const child = execa(this.qemuBinary, qemuArgs(spec), {
      detached: true,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
    });
    const host: HostSampler = { guestPid: child.pid, snapshot: () => snapshot(child.pid) };
    // KVM: one host core per vCPU thread, before the guest gets far (its pinning is recorded with the boot)
    const pinned = spec.qmpSocket ? this.pin(spec.qmpSocket, spec.cpus, hostCpus) : Promise.resolve(undefined);
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.write(text);
      tail = (tail + text).slice(-64 * 1024);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = markOf(line);
        if (m !== undefined) {
          marks.push({ text: m, atS: since() });
          req.onMark?.(m, since(), host);
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
    const consoleText = readFileSync(consoleLog, 'utf8');
    const rcFile = join(req.jobDir, 'out/job.rc');
    const jobRc = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : null;
    const verdict = classify(consoleText, timedOut, jobRc);
    // QEMU killed from outside mid-run (OOM killer, an operator): name the signal, not "powered off"
    if (verdict.status === 'job-failed' && jobRc === null && result.signal && !timedOut && marks.length) {
      verdict.message = `QEMU was killed by ${result.signal} before the guest job ended`;
    }
    if (verdict.status === 'job-failed' && jobRc === null && result.exitCode !== 0 && !marks.length) {
      verdict.message = `QEMU exited (${result.exitCode ?? result.signal}) before the guest started: ${tail.trim().split('\n').slice(-3).join(' | ')}`;
    }
    const pin = await pinned;
    return { ...verdict, wallS: since(), consoleTail: tail.split('\n').slice(-40).join('\n'), marks, exitCode: result.exitCode ?? null, ...(pin ? { details: { vcpuPinning: pin, hugepages: spec.hugepages ? 'yes' : 'no' } } : {}) };
  }

  /**
   * Pins each vCPU thread to a host core of its own, leaving the lowest-numbered
   * core to the harness and QEMU's I/O thread; skipped (and said so) when the host
   * has fewer than vCPUs + 1 cores. Returns "vcpu0->core1 ..." or why not.
   */
  private async pin(socket: string, vcpus: number, cores: number[]): Promise<string> {
    if (cores.length < vcpus + 1) return `not pinned: ${cores.length} host cores for ${vcpus} vCPUs + 1`;
    for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const threads = await vcpuThreads(socket);
      const plan = pinPlan(threads, cores.slice(1));
      await pinVcpus(plan);
      return plan.map((p, i) => `vcpu${threads[i].cpuIndex}(tid ${p.threadId})->core${p.core}`).join(' ');
    } catch (e) {
      return `not pinned: ${(e as Error).message}`;
    }
  }
}
