// tracebench bench [--suite quick|standard|FILE] [--machine qemu|ssh://...] [--out DIR] [--dry-run] [--show-command] [--resume]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadSuite, type Suite } from '../config.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { prepareHost } from '../doctor.js';
import { runBench, timeBreakdown, type MachineRecord } from '../bench.js';
import { hostInfo, probeKvmCached, type AccelChoice } from '../machines/host.js';
import { scratchDir } from '../machines/scratch.js';
import type { Machine, MachineFacts } from '../machines/machine.js';
import { QemuMachine } from '../machines/qemu.js';
import { labMachine } from '../machines/index.js';
import { LavaMachine } from '../machines/lava.js';
import { kexecCommand, labCmdline } from '../machines/ssh-kexec.js';
import { localHostFacts, methodologyWarnings } from '../machines/host-facts.js';
import { qemuArgs } from '../machines/qemu-args.js';
import { plan, type Boot } from '../plan.js';
import { hostLoadNow, QUIET } from '../machines/interference.js';
import { estimatePlan } from '../estimate.js';
import { PROJECT_ROOT } from '../paths.js';
import type { RunEvent } from '../run.js';
import { readManifest } from '../store/store.js';
import type { Manifest } from '../store/schema.js';
import { ensureImage } from './image.js';
import { writeReport } from './report.js';
import { recipeFor } from '../image/recipe.js';
import type { ImageInfo } from '../image/build.js';

export { timeBreakdown };

const say = (s: string) => process.stderr.write(s + '\n');

function runIdFor(suite: Suite): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${t}-${suite.name}`;
}

function describePlan(suite: Suite, boots: Boot[]): string {
  const lines = [`suite ${suite.name} (${suite.file}): ${boots.length} boots, ${suite.rounds} rounds interleaved`];
  for (const b of boots) {
    const wl = b.workloads.map((w) => `${w.name}${JSON.stringify(w.params)} x${w.warmup}+${w.iterations}`).join(', ');
    lines.push(`  ${b.id}: kernel ${b.kernel.name}, config ${b.config.name} (${b.config.tracer}); ${wl}`);
  }
  return lines.join('\n');
}

function progress(e: RunEvent): void {
  const at = (s: number) => `${s.toFixed(0).padStart(4)}s`;
  if (e.kind === 'boot-start') say(`[${e.boot.index}/${e.total}] ${e.boot.id}: booting`);
  else if (e.kind === 'mark' && (e.text.startsWith('workload') || e.text.startsWith('init-up') || e.text.startsWith('job-'))) say(`[${e.boot.index}] ${at(e.atS)} ${e.text}`);
  else if (e.kind === 'armed') say(`[${e.boot.index}] ${e.message}${e.ok ? '' : ' -> REFUSED'}`);
  else if (e.kind === 'boot-end') {
    const ok = e.samples.filter((s) => s.status === 'ok' && !s.warmup).length;
    const failed = e.samples.filter((s) => s.status === 'failed');
    say(`[${e.boot.index}] ${e.record.status} in ${e.record.wallS.toFixed(0)} s; ${ok} measured samples${failed.length ? `, ${failed.length} FAILED: ${failed[0].error?.split('\n')[0]}` : ''}`);
    if (e.record.status !== 'finished') say(`[${e.boot.index}] ${e.record.message}`);
  }
}

export interface BenchOptions {
  suite: string;
  out?: string;
  reports?: string;
  resume?: boolean;
  mirror?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  /** qemu (default) or ssh://user@host[:port]; wins over the suite's machine.uri */
  machine?: string;
  quiet?: boolean;
  /** install missing Debian packages when root (default true; --no-install) */
  install?: boolean;
}

/** What tests inject instead of the real machine, images, host and clock (the CLI entry passes them on). */
export interface BenchOverrides {
  machine?: Machine;
  images?: (suite: Suite) => Promise<Record<string, ImageInfo>>;
  now?: () => Date;
  /** replaces the SIGINT/SIGTERM flag (a test interrupts after N boots) */
  stopped?: () => boolean;
}

export interface BenchResult {
  outDir: string;
  reportDir: string;
  manifest: Manifest;
  text: string;
  files: string[];
}

/** The QEMU machine for a run: KVM when the probe (or the user) says so, and the resumed run's accelerator on --resume. */
async function qemuFor(suite: Suite, o: BenchOptions, image: ImageInfo, qemu: string | undefined, outDir: string): Promise<{ machine: QemuMachine; record: MachineRecord }> {
  const wanted = o.accel ?? suite.machine.accel;
  let accel: AccelChoice;
  if (o.resume && existsSync(join(outDir, 'manifest.json'))) accel = { accel: readManifest(outDir).accelerator as 'kvm' | 'tcg', reason: 'resumed run' };
  else if (wanted === 'auto') accel = await probeKvmCached(image, scratchDir(), qemu);
  else accel = { accel: wanted, reason: `forced by ${o.accel ? '--accel' : 'the suite'}` };
  const machine = new QemuMachine({ accel: accel.accel, scratchDir: scratchDir(), tune: suite.machine.tune, pinVcpus: suite.machine.pinVcpus, hugepages: suite.machine.hugepages, cmdline: suite.machine.cmdline, icount: suite.machine.icount });
  const example = machine.spec({ name: 'tracebench', image, extraCmdline: [], cpus: suite.machine.cpus, memoryMiB: suite.machine.memoryMiB, jobDir: '<raw/boot>' }, '<scratch>.img');
  return {
    machine,
    record: {
      accelerator: accel.accel,
      reason: accel.reason,
      details: { qemuArgsExample: qemuArgs(example) },
      // on a KVM host the host's governor and turbo set the guest's speed: warn as on bare metal
      notes: [
        ...(accel.accel === 'tcg' ? ['EMULATED (TCG): relative overheads under emulation are not those of hardware'] : methodologyWarnings(await localHostFacts(), { tune: suite.machine.tune })),
        ...icountNotes(suite.machine.icount, accel.accel === 'kvm' ? 'KVM' : undefined),
        // what QEMU is given to boot, not what the image offers
        ...(example.kernel === image.pvhKernel ? [PVH_NOTE] : []),
        ...(example.machineType === 'microvm' ? [MICROVM_NOTE] : []),
      ],
    },
  };
}

/** What booting the uncompressed vmlinux through its PVH entry changes (harness/image/pvh-vmlinux). */
export const PVH_NOTE = 'PVH boot: QEMU enters the uncompressed vmlinux directly (no decompressor under emulation), so the kernel is not relocated: no KASLR, the same text addresses in every boot';

/** What the microvm machine changes for the guest (qemu-args.ts MachineSpec.machineType). */
export const MICROVM_NOTE = "microvm machine: no PCI bus; the guest's disks and job share are virtio on MMIO (interrupts through the IO-APIC, not MSI-X), so its block path differs from a PCI or NVMe disk's";

/**
 * What the suite's `icount` means for this run's numbers (nothing when it is not set);
 * `ignoredOn` names what runs the kernel on its own clock instead (KVM, a lab box, LAVA).
 */
export function icountNotes(icount: number | undefined, ignoredOn?: string): string[] {
  if (icount === undefined) return [];
  if (ignoredOn) return [`machine.icount ${icount} ignored: ${ignoredOn} runs the kernel on its own clock`];
  return [`INSTRUCTION-TIME (TCG icount shift=${icount}): the guest clock counts executed instructions, ${2 ** icount} ns each; host load and steal do not reach guest-measured times, and cache and memory latencies are not modelled`];
}

/** A lab box: bare metal unless its own facts say it is a virtual machine (as the test lab box is). */
async function labRecord(machine: Machine, f: MachineFacts | undefined, tune: boolean): Promise<MachineRecord> {
  if (!f) throw new TracebenchError({ message: `lab box ${machine.uri}: its facts could not be read`, exitCode: ExitCode.host });
  const virt = f.virtualized;
  return {
    accelerator: virt ? `lab (virtualized: ${virt})` : 'bare-metal',
    reason: `${machine.uri}: ${machine.method}`,
    notes: [
      ...(virt ? [`the lab box ${machine.uri} is itself a virtual machine (${virt}): its results are not bare-metal numbers`] : []),
      ...methodologyWarnings(f, { tune }).map((w) => `${machine.uri}: ${w}`),
    ],
  };
}

/** The main job, callable from tests as well as the CLI. */
export async function bench(o: BenchOptions, overrides: BenchOverrides = {}): Promise<BenchResult> {
  const suite = loadSuite(o.suite);
  let machine: Machine | undefined = overrides.machine ?? labMachine(o.machine ?? suite.machine.uri ?? 'qemu', suite);
  // a lab box that cannot be used is an error within seconds, before any image is built
  if (machine && !overrides.machine) await machine.check();
  // installs missing Debian packages as root (unless --no-install), else exit 3 with the command
  if (!overrides.images) await prepareHost({ install: o.install ?? true });
  // one cached image per kernel of the suite: kernels are a version axis
  const images: Record<string, ImageInfo> = {};
  if (overrides.images) Object.assign(images, await overrides.images(suite));
  else for (const k of suite.kernels) images[k.name] = await ensureImage({ mirror: o.mirror, recipe: recipeFor(k) });
  const image = images[suite.kernels[0].name];
  const host = await hostInfo();
  const outDir = resolve(o.out ?? join(PROJECT_ROOT, 'results', runIdFor(suite)));
  let describe: (facts: MachineFacts | undefined) => Promise<MachineRecord>;
  if (!machine) {
    const q = await qemuFor(suite, o, image, host.qemuVersion, outDir);
    machine = q.machine;
    describe = async () => q.record;
    if (q.record.accelerator === 'tcg') say(`warning: running under TCG (software emulation): ${q.record.reason}. Results are labelled EMULATED.`);
    else say(`accelerator: KVM (${q.record.reason})`);
  } else {
    const m = machine;
    const base = overrides.machine ? async () => ({ accelerator: 'fake', reason: 'injected by a test' }) : m instanceof LavaMachine ? async () => m.record() : (f: MachineFacts | undefined) => labRecord(m, f, suite.machine.tune);
    // icount is a local QEMU option: a lab box or a LAVA worker runs on its own clock
    const ignored = icountNotes(suite.machine.icount, m.uri);
    describe = async (f) => {
      const r: MachineRecord = await base(f);
      return ignored.length ? { ...r, notes: [...(r.notes ?? []), ...ignored] } : r;
    };
  }
  for (const im of Object.values(images)) await machine.prepare(im);
  // Ctrl-C: the machine stops the running boot; the run stops before the next one and says how to resume
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let manifest: Manifest;
  try {
    manifest = await runBench(
      { suite, outDir, resume: o.resume ?? false, suiteArg: o.suite },
      {
        images,
        machine,
        describeMachine: describe,
        host,
        now: overrides.now ?? (() => new Date()),
        say,
        onEvent: o.quiet ? undefined : progress,
        stopped: overrides.stopped ? () => interrupted || overrides.stopped!() : () => interrupted,
        hostLoad: machine.measuresInterference ? hostLoadNow : undefined,
        maxOtherCores: QUIET.maxOtherCores,
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await machine.close();
  }
  const report = await writeReport(outDir, o.reports);
  return { outDir, reportDir: report.reportDir, manifest, text: report.text, files: report.files };
}

interface Args {
  suite: string;
  out?: string;
  reports?: string;
  resume: boolean;
  'dry-run': boolean;
  'show-command': boolean;
  mirror?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  machine?: string;
  install: boolean;
}

/** The bench command; the CLI entry (cli/main.ts) may hand it test overrides. */
export const benchCommandWith = (overrides: BenchOverrides = {}): CommandModule<object, Args> => ({
  command: 'bench',
  describe: 'boot every tracer configuration, run the suite, print the slowdown table and write the reports',
  builder: (y) =>
    y
      .option('suite', { type: 'string', default: 'quick', describe: 'quick | standard | path to a suite YAML' })
      .option('out', { type: 'string', describe: 'result directory (default results/<run-id>)' })
      .option('reports', { type: 'string', describe: 'report directory (default reports/<run-id>)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue an interrupted run in --out, skipping boots already recorded' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list every boot of the plan and run nothing' })
      .option('show-command', { type: 'boolean', default: false, describe: 'print the QEMU argv of a boot and run nothing' })
      .option('mirror', { type: 'string', describe: 'Debian mirror for the image build (default: host apt configuration)' })
      .option('accel', { choices: ['auto', 'kvm', 'tcg'] as const, describe: 'override the suite: auto probes KVM by booting' })
      .option('machine', { type: 'string', describe: 'where kernels run: qemu (a local guest, default), ssh://user@host[:port] (a lab box over ssh + kexec, docs/lab.md) or lava://host[:port]?device_type=qemu|x86-kexec&tags=… (a LAVA fleet, docs/lava.md); overrides the suite' })
      .option('install', { type: 'boolean', default: true, describe: 'as root, apt-get install missing host packages (--no-install: print the command and stop)' }) as never,
  handler: async (a) => {
    if (a['dry-run'] || a['show-command']) {
      const suite = loadSuite(a.suite);
      if (a['dry-run']) {
        const boots = plan(suite, suite.seed ?? 0);
        const order = suite.order === 'random' ? (suite.seed === undefined ? 'order within each round: seeded shuffle (seed chosen at start and recorded; this listing uses seed 0)' : `order within each round: seeded shuffle, seed ${suite.seed}`) : 'order within each round: as listed in the suite';
        process.stdout.write(`${describePlan(suite, boots)}\n${order}\n${estimatePlan(suite, boots, join(PROJECT_ROOT, 'results'))}\n`);
      }
      const lab = a['show-command'] ? labMachine(a.machine ?? suite.machine.uri ?? 'qemu', suite) : undefined;
      if (lab instanceof LavaMachine) {
        process.stdout.write(`a LAVA job per boot: \`tracebench lava jobs --suite ${a.suite} --out DIR --device-type ${lab.t.deviceType}\` writes them all\n`);
      } else if (lab) {
        // a lab box: what the base OS runs to start a boot (docs/lab.md "One boot")
        process.stdout.write(`${kexecCommand('<share>/kernels/<image>/vmlinuz', '<share>/kernels/<image>/initrd.img', labCmdline(suite.machine.lab, []))}\n`);
      } else if (a['show-command']) {
        // the spec QemuMachine builds for a boot, on an image not built yet (its PVH vmlinux,
        // virtio initramfs and microvm are only known once it is)
        const machine = new QemuMachine({ accel: 'tcg', scratchDir: scratchDir(), cmdline: suite.machine.cmdline, icount: suite.machine.icount });
        const image = { kernel: '<image>/vmlinuz', initrd: '<image>/initrd.img', root: '<image>/root.ext4' };
        const spec = machine.spec({ name: 'tracebench-<boot>', image, extraCmdline: [], cpus: suite.machine.cpus, memoryMiB: suite.machine.memoryMiB, jobDir: '<results>/raw/<boot>' }, '<scratch>.img');
        process.stdout.write(['qemu-system-x86_64', ...qemuArgs(spec)].map((w) => (/^[\w@%+=:,./<>-]+$/.test(w) ? w : `'${w}'`)).join(' ') + '\n');
      }
      return;
    }
    const r = await bench({ suite: a.suite, out: a.out, reports: a.reports, resume: a.resume, mirror: a.mirror, accel: a.accel, machine: a.machine, install: a.install }, overrides);
    process.stdout.write(r.text + '\n');
    process.stdout.write(`\n${timeBreakdown(r.manifest)}\nresults: ${r.outDir}\nreports:\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
    const bad = r.manifest.boots.filter((b) => b.status !== 'finished');
    if (bad.length) {
      throw new TracebenchError({
        message: `${bad.length} of ${r.manifest.boots.length} boots did not finish cleanly (${bad.map((b) => `boot ${b.boot} ${b.config}: ${b.status}`).join(', ')}); their samples are recorded as failed`,
        hint: `see the console logs under ${r.outDir}/raw/`,
        exitCode: ExitCode.guest,
      });
    }
  },
});

export const benchCommand = benchCommandWith();
