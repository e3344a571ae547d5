// Host prerequisites, each with the exact fix, and the step that installs the
// missing Debian packages. `bench` and `npm test` (pretest) run prepareHost
// first, so the README's two commands are all the set-up a fresh Debian machine needs.
import { accessSync, constants, existsSync, statfsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from './errors.js';
import { isRoot } from './machines/host.js';
import { hostFactLines, methodologyFindings, type FactTopic, type HostFacts, type MethodologyTopic } from './machines/host-facts.js';
import { hostMirror } from './image/mirror.js';
import { cacheRoot } from './image/build.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Debian package that fixes it, when installing one does */
  package?: string;
  fix?: string;
  /**
   * The host works, but results measured on it may drift, and why. Shown by
   * doctor as "warn"; requireChecks does not stop on it (ok stays true).
   */
  warning?: string;
}

export function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A Debian package tracebench needs, why, and what on disk shows it is there. */
export interface PackageNeed {
  package: string;
  why: string;
  /** a binary on PATH that the package provides */
  bin?: string;
  /** or a file it installs */
  file?: string;
}

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** What `bench` needs on the host (the guest image is built from these). */
export const BENCH_PACKAGES: PackageNeed[] = [
  { package: 'qemu-system-x86', bin: 'qemu-system-x86_64', why: 'boots the guests' },
  { package: 'qemu-utils', bin: 'qemu-img', why: 'makes the compressed qcow2 root and scratch disks LAVA devices boot' },
  { package: 'mmdebstrap', bin: 'mmdebstrap', why: 'builds the guest image' },
  { package: 'e2fsprogs', bin: 'mke2fs', why: 'makes the root and scratch filesystems' },
  { package: 'babeltrace2', bin: 'babeltrace2', why: "counts each iteration's LTTng trace on the host (seconds of emulated guest time otherwise)" },
  { package: 'debian-archive-keyring', file: KEYRING, why: "verifies the guest's packages" },
];

/** What the browser tests of the HTML reports need besides BENCH_PACKAGES (test/e2e/*-browser). */
export const BROWSER_PACKAGES: PackageNeed[] = [
  { package: 'chromium', file: '/usr/bin/chromium', why: 'the headless browser that opens the generated HTML reports in the tests' },
  { package: 'fonts-dejavu-core', file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', why: 'DejaVu Sans, the font the charts are drawn with (PNG and browser)' },
];

/** What the simulated lab box of the tests needs (test/labbox: a busybox + dropbear + kexec base initramfs, driven over ssh). */
export const LAB_TEST_PACKAGES: PackageNeed[] = [
  { package: 'openssh-client', bin: 'ssh', why: 'reaches lab boxes (and the tests\' QEMU lab box)' },
  { package: 'busybox-static', file: '/bin/busybox', why: "the test lab box's base userland" },
  { package: 'dropbear-bin', bin: 'dropbear', why: "the test lab box's sshd" },
  { package: 'kexec-tools', bin: 'kexec', why: 'the test lab box kexecs each kernel under test' },
  { package: 'cpio', bin: 'cpio', why: "packs the test lab box's initramfs" },
  { package: 'dash', bin: 'dash', why: "the test lab box's /bin/sh" },
  { package: 'xz-utils', bin: 'xz', why: "unpacks the image's kernel modules for the test lab box" },
];

/**
 * The database of the LAVA tests' local LAVA server (test/lava/local-lava.ts). Installed
 * with the other test packages, before LAVA_TEST_PACKAGES, and its cluster started before
 * those: lava-server's postinst creates and migrates its database only when PostgreSQL is
 * running (otherwise it prints "Skipping database creation" and the server has no database).
 */
export const LAVA_DB_PACKAGES: PackageNeed[] = [
  { package: 'postgresql', bin: 'pg_ctlcluster', why: "the local LAVA server's database (the LAVA tests start its cluster with pg_ctlcluster)" },
];

/**
 * LAVA 2023.01 for the LAVA backend's tests (test/lava). Installed in a second step,
 * after PostgreSQL runs, and without Recommends: those add ~140 packages and ~1 GB
 * (apache2, linux-image-amd64 with its initramfs, lxc, nfs, tftp, qemu-system-arm) that a
 * local QEMU worker reached on 127.0.0.1 does not use. QEMU itself is BENCH_PACKAGES'.
 */
export const LAVA_TEST_PACKAGES: PackageNeed[] = [
  { package: 'lava-common', file: '/usr/lib/python3/dist-packages/lava_common/schemas/__init__.py', why: "LAVA's own job schema: the tests validate the generated LAVA jobs with it, strictly (test/lava/validate-jobs.py)" },
  { package: 'lava-server', bin: 'lava-server', why: 'the LAVA server (web/REST API, scheduler, publisher) of the local LAVA instance the LAVA tests submit jobs to' },
  { package: 'lava-dispatcher', bin: 'lava-worker', why: "the local LAVA instance's worker: runs the jobs' QEMU guests" },
  { package: 'lavacli', bin: 'lavacli', why: "LAVA's command-line client, to look into the local LAVA instance by hand (lavacli --uri http://admin:TOKEN@127.0.0.1:PORT/RPC2)" },
  { package: 'zstd', bin: 'unzstd', why: "the LAVA worker's decompressor for `compression: zstd` images (a Recommends of lava-dispatcher)" },
];

/**
 * Starts every PostgreSQL cluster that is down (pg_ctlcluster: no systemd needed).
 * prepareHost leaves it running: the LAVA tests use it next.
 */
export const START_POSTGRES = 'pg_lsclusters -h | while read -r v c _; do pg_ctlcluster "$v" "$c" status >/dev/null 2>&1 || pg_ctlcluster "$v" "$c" start || exit 1; done';

/** By what is on disk rather than dpkg's database: a QEMU built from source on PATH serves as well. */
export function needPresent(n: PackageNeed): boolean {
  if (n.bin) return onPath(n.bin) !== undefined;
  if (n.file) return existsSync(n.file);
  return false;
}

/** Free GiB needed in the cache: the image build holds rootfs and ext4 at once. */
const CACHE_FREE_GIB = 12;

export function hostChecks(): Check[] {
  const checks: Check[] = [];
  checks.push({ name: 'root', ok: isRoot(), detail: isRoot() ? 'running as root' : 'mmdebstrap, chroot builds and mke2fs -d need root', fix: 'run tracebench as root (sudo)' });
  for (const n of BENCH_PACKAGES) {
    const p = n.bin ? onPath(n.bin) : n.file && existsSync(n.file) ? n.file : undefined;
    const what = n.bin ?? n.file!;
    checks.push({ name: n.bin ?? n.package, ok: !!p, detail: p ? `${p} (${n.why})` : `${n.bin ? 'not found' : `${what} missing`} (${n.why})`, package: n.package, fix: `apt-get install -y ${n.package}` });
  }
  let mirror: string | undefined;
  try {
    mirror = hostMirror();
  } catch {
    mirror = undefined;
  }
  checks.push({ name: 'debian mirror', ok: !!mirror, detail: mirror ? `${mirror} (from the host's apt configuration or TRACEBENCH_MIRROR)` : 'no Debian mirror in /etc/apt', fix: 'export TRACEBENCH_MIRROR=<a Debian mirror URL>' });
  const kvm = existsSync('/dev/kvm');
  checks.push({ name: 'kvm', ok: true, detail: kvm ? '/dev/kvm present: bench probes it by booting and falls back to TCG' : 'no /dev/kvm: guests run under TCG (emulated, labelled so)' });
  const cache = cacheRoot();
  mkdirSync(cache, { recursive: true });
  const fs = statfsSync(cache);
  const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
  checks.push({ name: 'cache space', ok: freeGiB >= CACHE_FREE_GIB, detail: `${freeGiB.toFixed(0)} GiB free in ${cache} (need ${CACHE_FREE_GIB})`, fix: `free space or set XDG_CACHE_HOME to a larger disk` });
  return checks;
}

export function missingPackages(checks: Check[]): string[] {
  return [...new Set(checks.filter((c) => !c.ok && c.package).map((c) => c.package!))];
}

/** Stop with the exact fix when a prerequisite is missing (bench, image build, doctor). */
export function requireChecks(checks: Check[]): void {
  const bad = checks.filter((c) => !c.ok);
  if (!bad.length) return;
  const pkgs = missingPackages(checks);
  throw new TracebenchError({
    message: `host prerequisites missing:\n${bad.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`,
    hint: pkgs.length
      ? `run \`tracebench doctor --install\` (apt-get install -y ${pkgs.join(' ')})${bad.some((c) => !c.package) ? '; also: ' + bad.filter((c) => !c.package).map((c) => c.fix).join('; ') : ''}`
      : bad.map((c) => c.fix).join('; '),
    exitCode: ExitCode.host,
  });
}

/** The host as ensurePackages sees it; tests inject their own (no real apt in unit tests). */
export interface HostDeps {
  present: (need: PackageNeed) => boolean;
  /** runs a command with its output shown to the user; resolves to the exit status */
  run: (cmd: string, args: string[]) => Promise<number>;
  isRoot: () => boolean;
  /** is this a Debian-like host that has apt-get? */
  hasApt: () => boolean;
  /** progress for the user (stderr: stdout stays the command's output) */
  say: (line: string) => void;
  /** the remaining host checks after the packages (root, mirror, cache space) */
  checks: () => Check[];
}

export const realHost: HostDeps = {
  present: needPresent,
  run: async (cmd, args) => {
    // noninteractive: no debconf question may stop an unattended bench; with
    // recommends, as Debian intends (mmdebstrap uses gpg and mount from them)
    const r = await execa(cmd, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, reject: false, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
    return r.exitCode ?? 1;
  },
  isRoot,
  hasApt: () => onPath('apt-get') !== undefined,
  say: (line) => process.stderr.write(line + '\n'),
  checks: hostChecks,
};

/** The apt-get lines that install `pkgs`, as the user would type them (after `before`, a command of its own). */
export function aptCommand(pkgs: string[], sudo: boolean, o: { recommends?: boolean; before?: string } = {}): string {
  const s = sudo ? 'sudo ' : '';
  return `${o.before ? `${s}${o.before} && ` : ''}${s}apt-get update && ${s}apt-get install -y ${o.recommends === false ? '--no-install-recommends ' : ''}${pkgs.join(' ')}`;
}

export interface EnsureOptions {
  /** false (--no-install): never install, print the command instead */
  install: boolean;
  /** what the packages are for, in the messages: "bench", "the tests" */
  purpose: string;
  /** install Recommends too (default true, as Debian intends) */
  recommends?: boolean;
  /** run apt-get update first (default true; false when a previous step just did) */
  update?: boolean;
  /** a command the user must run first, shown in the hints (ensurePackages itself does not run it) */
  before?: string;
}

/**
 * Installs the missing ones of `needs` with apt-get when running as root on
 * Debian and allowed to, saying what and why; otherwise stops (exit 3) with the
 * exact command to run. Returns the packages it installed (empty when none were missing).
 */
export async function ensurePackages(needs: PackageNeed[], opts: EnsureOptions, deps: HostDeps = realHost): Promise<string[]> {
  const missing = needs.filter((n) => !deps.present(n));
  if (missing.length === 0) return [];
  const pkgs = [...new Set(missing.map((n) => n.package))];
  const list = missing.map((n) => `  ${n.package}: ${n.why}`).join('\n');
  if (!deps.hasApt()) {
    throw new TracebenchError({
      message: `${opts.purpose} needs these Debian packages, and this host has no apt-get:\n${list}`,
      hint: `install their equivalents with your package manager (on Debian: ${aptCommand(pkgs, !deps.isRoot(), opts)})`,
      exitCode: ExitCode.host,
    });
  }
  if (!opts.install) {
    throw new TracebenchError({
      message: `${opts.purpose} needs these Debian packages, not installed (--no-install):\n${list}`,
      hint: `install them with: ${aptCommand(pkgs, !deps.isRoot(), opts)}`,
      exitCode: ExitCode.host,
    });
  }
  if (!deps.isRoot()) {
    throw new TracebenchError({
      message: `${opts.purpose} needs these Debian packages, and installing them needs root:\n${list}`,
      hint: `run: ${aptCommand(pkgs, true, opts)}`,
      exitCode: ExitCode.host,
    });
  }
  deps.say(`installing Debian packages that ${opts.purpose} needs (pass --no-install to refuse):\n${list}`);
  const install = ['install', '-y', '-q', ...(opts.recommends === false ? ['--no-install-recommends'] : []), ...pkgs];
  for (const args of [...(opts.update === false ? [] : [['update', '-q']]), install]) {
    deps.say(`running: apt-get ${args.join(' ')}`);
    const rc = await deps.run('apt-get', args);
    if (rc !== 0) {
      throw new TracebenchError({ message: `apt-get ${args.join(' ')} failed (exit ${rc})`, hint: 'see apt-get\'s output above; then run the same command by hand', exitCode: ExitCode.host });
    }
  }
  const still = missing.filter((n) => !deps.present(n));
  if (still.length > 0) {
    throw new TracebenchError({
      message: `installed ${pkgs.join(' ')}, yet still missing: ${still.map((n) => n.bin ?? n.file ?? n.package).join(', ')}`,
      hint: 'is PATH missing /usr/bin or /usr/sbin?',
      exitCode: ExitCode.host,
    });
  }
  return pkgs;
}

export interface PrepareOptions {
  /** install missing Debian packages (default true; `--no-install` passes false) */
  install?: boolean;
  /** also the browser-test packages (chromium, fonts): `npm test` */
  browser?: boolean;
  /** for the messages (default "tracebench bench", or "the tests" with browser) */
  purpose?: string;
}

/**
 * Everything a run needs from the host, set up where it can be: installs the
 * missing packages (ensurePackages), then the other checks (root, mirror, cache
 * space) stop with their fix. Throws TracebenchError(exit 3) when not ready.
 */
export async function prepareHost(opts: PrepareOptions = {}, deps: HostDeps = realHost): Promise<string[]> {
  const needs = [...BENCH_PACKAGES, ...(opts.browser ? [...BROWSER_PACKAGES, ...LAB_TEST_PACKAGES, ...LAVA_DB_PACKAGES] : [])];
  const purpose = opts.purpose ?? (opts.browser ? 'the tests' : 'tracebench bench');
  const install = opts.install ?? true;
  const installed = await ensurePackages(needs, { install, purpose }, deps);
  if (opts.browser) installed.push(...(await ensureLava({ install, purpose, update: installed.length === 0 }, deps)));
  requireChecks(deps.checks());
  return installed;
}

/**
 * The second step of the tests' packages: LAVA_TEST_PACKAGES, without Recommends,
 * once PostgreSQL runs (START_POSTGRES), so that lava-server's postinst creates and
 * migrates its database. Nothing runs when they are all there.
 */
async function ensureLava(opts: EnsureOptions, deps: HostDeps): Promise<string[]> {
  if (LAVA_TEST_PACKAGES.every((n) => deps.present(n))) return [];
  if (opts.install && deps.isRoot() && deps.hasApt()) {
    deps.say("starting PostgreSQL: lava-server's postinst creates its database in it");
    const rc = await deps.run('sh', ['-c', START_POSTGRES]);
    if (rc !== 0) throw new TracebenchError({ message: `starting PostgreSQL failed (exit ${rc})`, hint: 'see pg_ctlcluster\'s output above and /var/log/postgresql/; then run `pg_ctlcluster 15 main start` by hand', exitCode: ExitCode.host });
  }
  return ensurePackages(LAVA_TEST_PACKAGES, { ...opts, recommends: false, before: 'pg_ctlcluster 15 main start' }, deps);
}

/** /dev/kvm exists and this user may open it (whether KVM boots a kernel, only bench's probe tells). */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Host CPUs needed to pin each vCPU thread on a CPU of its own: one per vCPU
 * plus one for QEMU's main/I/O thread and the harness, which otherwise preempt
 * a vCPU (the interference check's vCPU share, harness/machines/interference.ts).
 */
export function pinCpusNeeded(vcpus: number): number {
  return vcpus + 1;
}

function pinningCheck(f: HostFacts, vcpus: number): Check {
  const need = pinCpusNeeded(vcpus);
  const have = f.cores;
  const name = 'vcpu pinning';
  if (have === undefined) return { name, ok: true, detail: 'cannot tell how many host CPUs are online', warning: `pinning ${vcpus} vCPUs needs ${need} host CPUs; /sys/devices/system/cpu/online was not readable` };
  const logical = f.smt === 'on' ? ' (logical CPUs: SMT siblings share a core)' : '';
  if (have >= need) return { name, ok: true, detail: `${have} host CPUs online${logical}: enough to pin the suite's ${vcpus} vCPUs one per CPU and keep one for QEMU's I/O thread and the harness` };
  return {
    name,
    ok: true,
    detail: `${have} host CPUs online, the suite's ${vcpus} vCPUs + 1 need ${need}`,
    warning: `with fewer host CPUs than vCPUs + 1, the vCPU threads share CPUs with QEMU's I/O thread and the harness, so iterations lose CPU time to them and come out noisy; give the suite machine.cpus: ${Math.max(1, have - 1)} or less`,
  };
}

const FACT_CHECKS: { topic: FactTopic; name: string; finding?: MethodologyTopic }[] = [
  { topic: 'cpu', name: 'host cpu' },
  { topic: 'machine', name: 'host machine' },
  { topic: 'frequency', name: 'cpu governor', finding: 'governor' },
  { topic: 'turbo', name: 'turbo', finding: 'turbo' },
  { topic: 'smt', name: 'smt' },
  { topic: 'irqbalance', name: 'irqbalance', finding: 'irqbalance' },
];

/**
 * The host's benchmark methodology as doctor lines (pure): governor, turbo, SMT
 * and irqbalance with the reason each warning matters, and, when KVM is usable,
 * whether the suite's vCPU threads can each be pinned to a host CPU.
 */
export function methodologyChecks(f: HostFacts, o: { kvm: boolean; vcpus: number }): Check[] {
  const texts = new Map(hostFactLines(f).map((l) => [l.topic, l.text]));
  const findings = new Map(methodologyFindings(f).map((w) => [w.topic, w.text]));
  const checks: Check[] = FACT_CHECKS.map((c) => ({ name: c.name, ok: true, detail: texts.get(c.topic) ?? 'unknown', ...(c.finding && findings.has(c.finding) ? { warning: findings.get(c.finding) } : {}) }));
  if (o.kvm) checks.push(pinningCheck(f, o.vcpus));
  return checks;
}
