// One planned boot -> one LAVA 2023.01 job definition (pure). Two device types:
//
// qemu: deploy to tmpfs (kernel, initrd, the root as a compressed qcow2 that QEMU
//   reads in place, a small job disk, an empty scratch disk), boot method qemu
//   with no login, and a `monitors` test keyed on the guest's own TB-MARK lines:
//   no overlay, nothing of LAVA's inside the guest.
// x86-kexec: a bare-metal box that boots its own disk into a Debian base OS on the
//   serial console (docs/lava.md: the device type tracebench ships). An
//   interactive test in the base OS stages the job on the share partition, writes
//   the root partition when it holds another image, fetches kernel and initrd
//   with their sha256 checked; boot method kexec jumps into the kernel under
//   test, and the same monitor follows its marks until it reboots to the base OS.
//
// Both read the guest's results from the console (console-frame.ts), so nothing
// needs the device to reach this host after the job starts.
import { stringify } from 'yaml';
import { kernelWord } from '../machines/qemu-args.js';
import { shellQuote } from '../shell-quote.js';

export type LavaDeviceType = 'qemu' | 'x86-kexec';
export const LAVA_DEVICE_TYPES: LavaDeviceType[] = ['qemu', 'x86-kexec'];

/** A file the dispatcher (or the device) downloads: where, and the sha256 of the bytes served. */
export interface Artifact {
  url: string;
  sha256: string;
  compression?: 'gz' | 'xz' | 'zstd';
}

interface Common {
  /** LAVA's job_name (≤ 200 characters) */
  name: string;
  /** shown by LAVA and searchable: run id, boot id, kernel, config, round */
  metadata: Record<string, string>;
  /** LAVA device type name on the server (default: the kind) */
  deviceTypeName?: string;
  /** device tags: a pool tag and, once known, the device's own tag (the pin) */
  tags: string[];
  /** seconds the boot may take, from the kernel's start to its end mark */
  timeoutS: number;
  /** kernel command line of the kernel under test (tracer boot options included) */
  cmdline: string[];
  priority?: number;
}

export interface QemuJob extends Common {
  kind: 'qemu';
  /** the worker cannot use KVM: TCG (context no_kvm) */
  noKvm: boolean;
  cpus: number;
  memoryMiB: number;
  artifacts: { kernel: Artifact; initrd: Artifact; root: Artifact; job: Artifact; scratch?: Artifact };
}

export interface KexecJob extends Common {
  kind: 'x86-kexec';
  /** tar.gz of the job directory, unpacked onto the share partition */
  artifacts: { kernel: Artifact; initrd: Artifact; root: Artifact; job: Artifact };
  /** content key of the root image: the partition is rewritten only when it holds another */
  rootKey: string;
  /** partitions of the box (LABEL=… or a device), as for a lab box (docs/lab.md) */
  partitions: { root: string; share: string; scratch: string };
  /** the base OS's shell prompt on the serial console (a regex, as LAVA matches it) */
  prompt: string;
}

export type LavaJobInput = QemuJob | KexecJob;

/** Labels the kernel under test finds its disks by (the same contract as a lab box). */
export const LAVA_LABELS = { root: 'LABEL=tbroot', share: 'LABEL=tbshare', scratch: 'LABEL=tbscratch' } as const;

/** The guest's marks a LAVA monitor follows: the job's own start, and how tb-init ends the boot. */
const monitor = (end: 'poweroff' | 'reboot', start = 'TB-MARK job-start') => ({
  name: 'tracebench',
  start,
  end: `TB-MARK ${end}`,
  // one LAVA test case, "job": pass when the guest job ran to its end, fail when it stopped
  pattern: 'TB-MARK (?P<test_case_id>job)-(?P<result>end|failed)',
  fixupdict: { end: 'pass', failed: 'fail' },
});

const minutes = (s: number) => ({ minutes: Math.max(1, Math.ceil(s / 60)) });

const url = (a: Artifact, extra: Record<string, unknown> = {}) => ({ url: a.url, sha256sum: a.sha256, ...(a.compression ? { compression: a.compression } : {}), ...extra });

/** The kernel command line as one QEMU -append word inside LAVA's image_arg (words are checked: no quotes, no spaces). */
const appendArg = (cmdline: string[]) => `'${cmdline.map(kernelWord).join(' ')}'`;

function header(j: LavaJobInput, deploy: number, boot: number) {
  // the job ends on its own well within this; LAVA's job timeout is the last resort
  const testS = j.timeoutS;
  const jobS = deploy + boot + testS + 300;
  return {
    device_type: j.deviceTypeName ?? j.kind,
    job_name: j.name.slice(0, 200),
    visibility: 'public',
    priority: j.priority ?? 50,
    ...(j.tags.length ? { tags: j.tags } : {}),
    metadata: j.metadata,
    timeouts: {
      job: minutes(jobS),
      action: minutes(Math.max(deploy, boot, testS)),
      // the monitor waits for its next matching line under the connection timeout: the whole test
      connection: minutes(testS),
    },
  };
}

function qemuJob(j: QemuJob) {
  const a = j.artifacts;
  const images: Record<string, unknown> = {
    kernel: url(a.kernel, { image_arg: `-kernel {kernel} -append ${appendArg(j.cmdline)}` }),
    initrd: url(a.initrd, { image_arg: '-initrd {initrd}' }),
    // qcow2 with compressed clusters, read in place: the multi-GiB root is never expanded on the worker.
    // Not `format: qcow2`: that makes LAVA convert the image to raw
    root: url(a.root, { image_arg: '-drive format=qcow2,if=virtio,snapshot=on,file={root}' }),
    tbjob: url(a.job, { image_arg: '-drive format=raw,if=virtio,file={tbjob}' }),
  };
  if (a.scratch) images.tbscratch = url(a.scratch, { image_arg: '-drive format=qcow2,if=virtio,cache=writeback,file={tbscratch}' });
  return {
    ...header(j, 600, 120),
    context: {
      arch: 'amd64',
      memory: j.memoryMiB,
      ...(j.noKvm ? { no_kvm: true } : {}),
      // as the local runner (qemu-args.ts): q35, every CPU feature under TCG on one host thread
      // (multi-threaded TCG races live kernel text patching: docs/reliability.md), exit instead of reboot
      extra_options: [`-smp ${j.cpus}`, '-machine q35', ...(j.noKvm ? ['-cpu max', '-accel tcg,thread=single'] : []), '-no-reboot'],
    },
    actions: [
      { deploy: { to: 'tmpfs', timeout: minutes(600), images } },
      { boot: { method: 'qemu', media: 'tmpfs', timeout: minutes(120) } },
      { test: { timeout: minutes(j.timeoutS), monitors: [monitor('poweroff')] } },
    ],
  };
}

/** Base OS commands (pure): each ends by printing a token the interactive test waits for. */
export function kexecStageCommands(j: KexecJob): { name: string; command: string }[] {
  const q = shellQuote;
  const a = j.artifacts;
  const dev = (p: string) => `$(case ${q(p)} in /dev/*) echo ${q(p)} ;; *) findfs ${q(p)} ;; esac)`;
  const fetch = (art: Artifact, to: string) => `wget -q -O ${to} ${q(art.url)} && echo ${q(`${art.sha256}  ${to}`)} | sha256sum -c --quiet`;
  const ok = (name: string) => `&& echo TB-STAGE-${name}-OK || echo TB-STAGE-${name}-FAILED`;
  return [
    { name: 'share', command: `umount /run/tb 2> /dev/null; mkdir -p /run/tb && mount ${dev(j.partitions.share)} /run/tb && find /run/tb -mindepth 1 -maxdepth 1 ! -name lost+found ! -name root.key -exec rm -rf {} + ${ok('share')}` },
    { name: 'job', command: `${fetch(a.job, '/run/tb/job.tgz')} && tar -xzf /run/tb/job.tgz -C /run/tb && rm /run/tb/job.tgz ${ok('job')}` },
    // kernel and initrd in the base OS's RAM (/run): kexec --load reads them after the share is unmounted
    { name: 'kernel', command: `mkdir -p /run/tbk && ${fetch(a.kernel, '/run/tbk/vmlinuz')} && ${fetch(a.initrd, '/run/tbk/initrd.img')} ${ok('kernel')}` },
    // a multi-GiB root is written only when the partition holds another image (gzip: mostly free space)
    // streamed: hashed (through a fifo) while it is written, and only a verified write records the key
    {
      name: 'root',
      command: `{ [ "$(cat /run/tb/root.key 2> /dev/null)" = ${q(j.rootKey)} ] || { rm -f /run/tb/root.key /run/tbroot.fifo && mkfifo /run/tbroot.fifo && { sha256sum /run/tbroot.fifo > /run/tbroot.sum & } && wget -q -O - ${q(a.root.url)} | tee /run/tbroot.fifo | gunzip -c > ${dev(j.partitions.root)} && wait && grep -q ^${a.root.sha256} /run/tbroot.sum && sync && echo ${q(j.rootKey)} > /run/tb/root.key; }; } ${ok('root')}`,
    },
    // the kernel under test mounts the share itself: unmounted (and synced) before kexec
    { name: 'scratch', command: `mke2fs -q -t ext4 -F -L tbscratch ${dev(j.partitions.scratch)} && sync && umount /run/tb ${ok('scratch')}` },
  ];
}

function kexecJob(j: KexecJob) {
  const prompts = [j.prompt];
  const stage = kexecStageCommands(j);
  return {
    ...header(j, 900, 600),
    actions: [
      // the box boots its own disk into the base OS, which logs root in on the serial console
      { boot: { method: 'minimal', timeout: minutes(600), auto_login: { login_prompt: 'login:', username: 'root' }, prompts } },
      {
        test: {
          timeout: minutes(900),
          interactive: [
            {
              name: 'tracebench-stage',
              prompts,
              script: stage.map((s) => ({
                name: s.name,
                command: s.command,
                successes: [{ message: `TB-STAGE-${s.name}-OK` }],
                failures: [{ message: `TB-STAGE-${s.name}-FAILED`, exception: 'JobError', error: `staging the ${s.name} failed on the base OS` }],
              })),
            },
          ],
        },
      },
      {
        boot: {
          method: 'kexec',
          timeout: minutes(300),
          kernel: '/run/tbk/vmlinuz',
          initrd: '/run/tbk/initrd.img',
          options: [`--append=${appendArg(j.cmdline)}`],
          boot_message: 'TB-MARK init-up',
          // the kernel under test has no shell: its job's first mark stands in for LAVA's prompt
          prompts: ['TB-MARK job-start'],
        },
      },
      { test: { timeout: minutes(j.timeoutS), monitors: [monitor('reboot', 'TB-MARK frag scratch')] } },
    ],
  };
}

/** The job definition as an object (for tests) and as YAML (what is submitted). */
export function lavaJob(j: LavaJobInput): Record<string, unknown> {
  return j.kind === 'qemu' ? qemuJob(j) : kexecJob(j);
}

export function lavaJobYaml(j: LavaJobInput): string {
  return `# generated by tracebench (harness/lava/job-definition.ts)\n${stringify(lavaJob(j), { lineWidth: 0 })}`;
}
