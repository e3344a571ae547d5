// The bare-metal Machine: a lab box running a Debian base OS with sshd and
// kexec-tools (docs/lab.md). Per boot, over ssh: read the base OS's boot_id and
// facts, make the scratch filesystem, put the job on the share partition, load
// the kernel under test with `kexec -l` and jump into it. That kernel runs the
// same tb-init and job as a QEMU guest, writes out/ to the share partition and
// reboots; the box comes back to its base OS with a new boot_id, and the
// outputs are fetched. A kernel that hangs is reset with the power command.
import { existsSync, readFileSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LabConfig } from '../config.js';
import { ExitCode, TracebenchError } from '../errors.js';
import { shellQuote } from '../shell-quote.js';
import { HOST_FACTS_SCRIPT, parseHostFacts } from './host-facts.js';
import { BootCancelled, classify, guestCmdline, markOf, type BootImage, type BootRequest, type BootResult, type Machine, type MachineFacts } from './machine.js';
import { remoteCommand, ssh, sshArgv, sshName, sshOk, sshPipeFile, sshTarIn, sshUntar, type SshTarget } from './ssh.js';
import { guestNet, relayScript, RELAY_PY, VerdictServer } from './verdict-relay.js';
import { GUEST_TUNE_LINES } from './tune.js';
import { kernelWord } from './qemu-args.js';

/** Where the base OS mounts the share partition while it stages a job or fetches outputs. */
const SHARE_MNT = '/run/tracebench-share';
/** Kernels and initrds live on the share partition, which survives the box's reboots. */
const kernelDir = (key: string) => `${SHARE_MNT}/kernels/${key}`;

const q = shellQuote;
/** `dev LABEL=x` on the base OS: the device a partition name means (findfs: util-linux and busybox). */
const DEV_FN = 'dev() { case "$1" in /dev/*) echo "$1" ;; *) findfs "$1" ;; esac; }';

/** The kernel command line of a kernel under test on a lab box (pure). */
export function labCmdline(lab: Pick<LabConfig, 'root' | 'share' | 'scratch' | 'serial' | 'cmdline'>, extra: string[]): string[] {
  // the kernel under test reboots when done (a panic too): back to the base OS
  return guestCmdline({ console: lab.serial, root: lab.root, share: lab.share, scratch: lab.scratch, end: 'reboot', last: lab.cmdline }, extra).map(kernelWord);
}

/** The base OS command that loads a kernel under test and jumps into it, detached so ssh returns (pure). */
export function kexecCommand(kernel: string, initrd: string, cmdline: string[]): string {
  const load = remoteCommand(['kexec', '-l', kernel, `--initrd=${initrd}`, `--append=${cmdline.join(' ')}`]);
  // systemd's kexec.target unmounts and syncs; a minimal base OS gets sync + kexec -e
  const jump = 'if [ -d /run/systemd/system ]; then systemctl kexec; else sync; kexec -e; fi';
  return `${load} && { setsid sh -c ${q(`sleep 1; ${jump}`)} > /dev/null 2>&1 < /dev/null & }`;
}

export interface SshKexecOptions {
  target: SshTarget;
  uri: string;
  lab: LabConfig;
  /** performance governor and turbo off inside each kernel under test (machine.tune) */
  tune?: boolean;
}

interface Before {
  bootId: string;
  facts: MachineFacts;
  net: Record<string, string>;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export class SshKexecMachine implements Machine {
  readonly uri: string;
  readonly measuresInterference = false;
  readonly bulkOutputs = true;
  readonly method: string;
  private readonly t: SshTarget;
  private readonly lab: LabConfig;
  private readonly tune: boolean;
  private relay?: VerdictServer;
  private relayPort?: number;

  constructor(o: SshKexecOptions) {
    this.t = o.target;
    this.uri = o.uri;
    this.lab = o.lab;
    this.tune = o.tune ?? false;
    this.method = `bare metal over ssh: kexec from the base OS into each kernel under test, root ${o.lab.root} (ro), job share ${o.lab.share}, scratch ${o.lab.scratch} made fresh per boot`;
  }

  private get name() {
    return sshName(this.t);
  }

  /** What doctor shows and check refuses: each unmet part of the lab box contract. Unreachable: exit 3 naming the box. */
  async inspect(): Promise<{ found: Record<string, string>; problems: string[] }> {
    const script = [
      DEV_FN,
      'echo "uid=$(id -u)"',
      'echo "kexec=$(command -v kexec)"',
      'echo "kexec_load_disabled=$(cat /proc/sys/kernel/kexec_load_disabled 2>/dev/null)"',
      'echo "lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null)"',
      ...(['root', 'share', 'scratch'] as const).map((p) => `echo "${p}=$(dev ${q(this.lab[p])} 2>/dev/null)"`),
    ].join('\n');
    const r = await ssh(this.t, script, { timeoutS: 30 });
    if (r.exitCode !== 0) {
      throw new TracebenchError({
        message: `lab box ${this.t.host} is not reachable over ssh (${this.name}): ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`,
        hint: `check that \`ssh -p ${this.t.port} ${this.t.user}@${this.t.host}\` logs in without a password; docs/lab.md lists what a lab box needs`,
        exitCode: ExitCode.host,
      });
    }
    const found = keyValues(r.stdout);
    return { found, problems: labProblems(found, this.lab) };
  }

  async check(): Promise<void> {
    const { problems } = await this.inspect();
    if (problems.length) {
      throw new TracebenchError({ message: `lab box ${this.t.host} cannot run tracebench boots:\n  ${problems.join('\n  ')}`, hint: 'docs/lab.md: the lab box contract', exitCode: ExitCode.host });
    }
  }

  /** Kernel and initrd onto the share partition; the root partition written when it holds another image. */
  async prepare(image: BootImage): Promise<void> {
    const key = image.key ?? 'default';
    const want = { root: await ext4Uuid(image.root), vmlinuz: await sha256(image.kernel), 'initrd.img': await sha256(image.initrd) };
    const have = keyValues(
      await sshOk(
        this.t,
        [DEV_FN, `mkdir -p ${SHARE_MNT}`, `mount "$(dev ${q(this.lab.share)})" ${SHARE_MNT} 2>/dev/null || grep -q " ${SHARE_MNT} " /proc/mounts`, `mkdir -p ${kernelDir(key)}`, `echo "root=$(blkid "$(dev ${q(this.lab.root)})" | sed -n 's/.* UUID="\\([^"]*\\)".*/\\1/p')"`, `for f in vmlinuz initrd.img; do echo "$f=$(sha256sum ${kernelDir(key)}/$f 2>/dev/null | cut -d' ' -f1)"; done`].join('\n'),
        'reading what the box holds',
      ),
    );
    for (const f of ['vmlinuz', 'initrd.img'] as const) {
      if (have[f] === want[f]) continue;
      const local = f === 'vmlinuz' ? image.kernel : image.initrd;
      await sshPipeFile(this.t, local, `cat > ${kernelDir(key)}/${f}.part && mv ${kernelDir(key)}/${f}.part ${kernelDir(key)}/${f} && sync`, `copying ${f}`);
    }
    if (have.root !== want.root) {
      // the same ext4 the QEMU path boots, written once per image key; gzip: most of a 6 GiB image is free space
      const remote = [DEV_FN, `d=$(dev ${q(this.lab.root)})`, 'gunzip -c > "$d" && sync'].join('\n');
      const child = execa('gzip', ['-1', '-c', image.root], { stdout: 'pipe', reject: false });
      const up = execa('ssh', sshArgv(this.t, remote), { stdin: 'pipe', reject: false, timeout: 4 * 3600_000 });
      child.stdout!.pipe(up.stdin!);
      const [z, u] = await Promise.all([child, up]);
      if (z.exitCode !== 0 || u.exitCode !== 0) throw new TracebenchError({ message: `lab box ${this.t.host}: writing the root image failed: ${String(u.stderr).trim() || String(z.stderr).trim()}`, exitCode: ExitCode.host });
    }
    await sshOk(this.t, `sync; umount ${SHARE_MNT}`, 'unmounting the share');
  }

  async facts(): Promise<MachineFacts> {
    const f = parseHostFacts(await sshOk(this.t, HOST_FACTS_SCRIPT, 'reading host facts'));
    return { ...f, machine: this.uri, baseKernel: f.kernel };
  }

  async close(): Promise<void> {
    await this.relay?.close();
    this.relay = undefined;
  }

  /** One ssh call before a boot: boot_id, facts, the route back to this host, a fresh scratch, an empty share. */
  private async before(key: string): Promise<Before> {
    const out = await sshOk(
      this.t,
      [
        DEV_FN,
        'set -e',
        'echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"',
        // the route back to this host, for the guest's armed-set relay
        'set -- $SSH_CONNECTION; echo "controller=$1"',
        'echo "route=$(ip route get "$1" 2>/dev/null | head -n 1)"',
        'i=$(ip route get "$1" 2>/dev/null | head -n 1 | sed -n "s/.* dev \\([^ ]*\\).*/\\1/p")',
        'echo "mac=$(cat /sys/class/net/$i/address 2>/dev/null)"',
        'echo "addr=$(ip -o -4 addr show dev "$i" 2>/dev/null | head -n 1)"',
        `s=$(dev ${q(this.lab.scratch)})`,
        'umount "$s" 2>/dev/null || true',
        // the same fresh, empty ext4 a local guest gets from the host's mke2fs
        `mke2fs -q -t ext4 -F -L ${q(labelOf(this.lab.scratch) ?? 'tbscratch')} "$s"`,
        `mkdir -p ${SHARE_MNT}`,
        `grep -q " ${SHARE_MNT} " /proc/mounts || mount "$(dev ${q(this.lab.share)})" ${SHARE_MNT}`,
        // the previous boot's job and outputs go; each image's kernel and initrd stay
        `for f in ${SHARE_MNT}/* ${SHARE_MNT}/.[!.]*; do case "\${f##*/}" in kernels | lost+found | '*' | '.[!.]*') ;; *) rm -rf "$f" ;; esac; done`,
        `[ -s ${kernelDir(key)}/vmlinuz ] && [ -s ${kernelDir(key)}/initrd.img ] || echo "kernels=missing"`,
        // host-facts.sh probes what may be absent: not under set -e; its $1 is a root directory
        'set +e --',
        'echo "== facts"',
        HOST_FACTS_SCRIPT,
      ].join('\n'),
      'preparing the boot',
      { timeoutS: 300 },
    );
    const [head, factsText = ''] = out.split('== facts\n');
    const net = keyValues(head);
    const f = parseHostFacts(factsText);
    return { bootId: net.boot_id, facts: { ...f, machine: this.uri, baseKernel: f.kernel }, net };
  }

  private async relayUrl(jobDir: string, net: Record<string, string>): Promise<{ token: string; script: string }> {
    const g = guestNet(net);
    if (typeof g === 'string') {
      throw new TracebenchError({ message: `lab box ${this.t.host}: the armed-set handshake needs the box's network: ${g}`, hint: 'docs/lab.md: the kernel under test reaches this host on the address the base OS uses', exitCode: ExitCode.host });
    }
    if (!this.relay) {
      this.relay = new VerdictServer();
      this.relayPort = await this.relay.listen(this.lab.verdictListen);
    }
    const token = this.relay.register(jobDir);
    return { token, script: relayScript(g, `http://${g.controller}:${this.relayPort}/${token}/`) };
  }

  async boot(req: BootRequest): Promise<BootResult> {
    const started = Date.now();
    const since = () => (Date.now() - started) / 1000;
    const key = req.image.key ?? 'default';
    const pre = await this.before(key);
    if (pre.net.kernels === 'missing') throw new TracebenchError({ message: `lab box ${this.t.host}: image ${key} is not prepared`, hint: `run \`tracebench lab prepare ${this.uri}\``, exitCode: ExitCode.host });
    const needsVerdict = existsSync(join(req.jobDir, 'frag/tracer-armed.sh'));
    let token: string | undefined;
    // machine.sh (run by tb-init before the job): tuning, the kernel under test's own facts, the relay
    const machineSh = ['# generated by tracebench (harness/machines/ssh-kexec.ts)', ...(this.tune ? GUEST_TUNE_LINES : []), 'sh /tb/host-facts.sh > /tb/out/kut-facts.txt 2>&1'];
    writeFileSync(join(req.jobDir, 'host-facts.sh'), HOST_FACTS_SCRIPT);
    const files = ['job.sh', 'frag', 'ctl', 'machine.sh', 'host-facts.sh'];
    if (needsVerdict) {
      const r = await this.relayUrl(req.jobDir, pre.net);
      token = r.token;
      machineSh.push(r.script);
      writeFileSync(join(req.jobDir, 'relay.py'), RELAY_PY);
      files.push('relay.py');
    }
    writeFileSync(join(req.jobDir, 'machine.sh'), machineSh.join('\n') + '\n');
    try {
      await sshTarIn(this.t, req.jobDir, files, `tar -x -C ${SHARE_MNT} && sync`, 'copying the job');
      if (req.cancelled?.()) throw new BootCancelled(req.name);
      const console = this.lab.console && existsSync(this.lab.console) ? statSync(this.lab.console).size : 0;
      const cmdline = labCmdline(this.lab, req.extraCmdline);
      const kexecStart = Date.now();
      await sshOk(this.t, `${kexecCommand(`${kernelDir(key)}/vmlinuz`, `${kernelDir(key)}/initrd.img`, cmdline)}; cd /; umount ${SHARE_MNT}`, 'kexec -l');
      const kexecLoadS = seconds(Date.now() - kexecStart);
      const wait = await this.waitForReturn(req, pre.bootId, console, since);
      const fetched = await this.fetch(req.jobDir);
      const consoleText = wait.console || (existsSync(join(req.jobDir, 'out/marks.log')) ? readFileSync(join(req.jobDir, 'out/marks.log'), 'utf8') : '');
      writeFileSync(join(req.jobDir, 'console.log'), consoleText);
      const rcFile = join(req.jobDir, 'out/job.rc');
      const jobRc = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : null;
      const verdict = classify(consoleText, wait.timedOut, jobRc);
      if (verdict.status === 'job-failed' && jobRc === null && !fetched) verdict.message = 'the kernel under test returned to the base OS without writing its outputs';
      if (verdict.status === 'timeout') verdict.message = `no return to the base OS within ${req.timeoutS} s; ${this.lab.power ? 'reset with the power command' : 'no power command configured: the box came back by itself'}`;
      const marks = wait.marks.length ? wait.marks : consoleText.split('\n').flatMap((l) => (markOf(l) !== undefined ? [{ text: markOf(l)!, atS: NaN }] : []));
      return {
        ...verdict,
        wallS: since(),
        consoleTail: consoleText.split('\n').slice(-40).join('\n'),
        marks: marks.filter((m) => !Number.isNaN(m.atS)),
        exitCode: jobRc,
        device: this.uri,
        // the base OS's facts, and what the kernel under test itself saw (its governor is its own)
        facts: { ...pre.facts, ...(existsSync(join(req.jobDir, 'out/kut-facts.txt')) ? { underTest: parseHostFacts(readFileSync(join(req.jobDir, 'out/kut-facts.txt'), 'utf8')) } : {}) },
        details: { baseBootId: pre.bootId, returnedBootId: wait.bootId, kexecLoadS, kexecToReturnS: wait.returnS, ...(wait.powerS !== undefined ? { powerCycledAtS: wait.powerS } : {}) },
      };
    } finally {
      if (token) this.relay?.unregister(token);
    }
  }

  /**
   * Waits until the box answers ssh with a boot_id other than the base OS's before
   * the boot (the kernel under test has no sshd, so only the base OS answers).
   * Meanwhile: console marks (when the box's console is logged here), the
   * verdict handshake, and after `timeoutS` the power command.
   */
  private async waitForReturn(req: BootRequest, bootId: string, consoleFrom: number, since: () => number) {
    const kexecAt = since();
    const marks: { text: string; atS: number }[] = [];
    let consoleText = '';
    let consoleAt = consoleFrom;
    let partial = '';
    const readConsole = () => {
      const file = this.lab.console;
      if (!file || !existsSync(file)) return;
      const size = statSync(file).size;
      if (size <= consoleAt) return;
      const fd = openSync(file, 'r');
      const buf = Buffer.alloc(size - consoleAt);
      readSync(fd, buf, 0, buf.length, consoleAt);
      closeSync(fd);
      consoleAt = size;
      const text = buf.toString('utf8');
      consoleText += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = markOf(line);
        if (m === undefined) continue;
        marks.push({ text: m, atS: since() });
        req.onMark?.(m, since());
      }
    };
    const tick = setInterval(() => {
      readConsole();
      req.onTick?.();
    }, 200);
    let timedOut = false;
    let powerS: number | undefined;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 3000));
        const r = await ssh(this.t, 'cat /proc/sys/kernel/random/boot_id', { timeoutS: 15, connectTimeoutS: 4 });
        const now = r.exitCode === 0 ? r.stdout.trim() : undefined;
        if (now && now !== bootId) {
          readConsole();
          return { bootId: now, timedOut, marks, console: consoleText, returnS: seconds((since() - kexecAt) * 1000), powerS };
        }
        if (!timedOut && since() - kexecAt > req.timeoutS) {
          timedOut = true;
          powerS = since();
          if (this.lab.power) await this.powerCycle();
        }
        if (since() - kexecAt > req.timeoutS + this.lab.returnTimeoutS) {
          throw new TracebenchError({
            message: `lab box ${this.t.host} did not come back to its base OS within ${req.timeoutS + this.lab.returnTimeoutS} s of ${req.name}${this.lab.power ? ' (the power command was run)' : ' (no power command configured)'}`,
            hint: `bring the box back, then continue with --resume; every sample so far is kept`,
            exitCode: ExitCode.host,
          });
        }
      }
    } finally {
      clearInterval(tick);
    }
  }

  private async powerCycle(): Promise<void> {
    const [cmd, ...args] = this.lab.power!;
    const r = await execa(cmd, args, { reject: false, timeout: 120_000, all: true });
    if (r.exitCode !== 0) throw new TracebenchError({ message: `lab box ${this.t.host}: the power command failed (exit ${r.exitCode}): ${String(r.all).trim()}`, exitCode: ExitCode.host });
  }

  /** out/ and ctl/ of the share partition into the job directory; false when the guest wrote nothing. */
  private async fetch(jobDir: string): Promise<boolean> {
    const remote = [DEV_FN, `mkdir -p ${SHARE_MNT}`, `grep -q " ${SHARE_MNT} " /proc/mounts || mount "$(dev ${q(this.lab.share)})" ${SHARE_MNT}`, `tar -c -C ${SHARE_MNT} out ctl 2>/dev/null; r=$?; cd /; umount ${SHARE_MNT}; exit 0`].join('\n');
    await sshUntar(this.t, remote, jobDir, 'fetching the outputs');
    return existsSync(join(jobDir, 'out/job.log'));
  }
}

/** `key=value` lines (other lines ignored): guest fragments and base-OS probes print them. */
export function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && /^[\w.-]+$/.test(line.slice(0, i))) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const labelOf = (name: string) => /^LABEL=(.+)$/.exec(name)?.[1];

/** What `check` found wrong with a box (pure, unit-tested). */
export function labProblems(kv: Record<string, string>, lab: Pick<LabConfig, 'root' | 'share' | 'scratch'>): string[] {
  const p: string[] = [];
  if (kv.uid !== '0') p.push(`ssh logs in as uid ${kv.uid || '?'}, not root: kexec and mke2fs need root`);
  if (!kv.kexec) p.push('kexec is not installed (Debian: apt-get install kexec-tools)');
  if (kv.kexec_load_disabled === '1') p.push('kexec_load is disabled (kernel.kexec_load_disabled=1): reboot the base OS without it');
  if (/\[(integrity|confidentiality)\]/.test(kv.lockdown ?? '')) p.push(`kernel lockdown is ${/\[(\w+)\]/.exec(kv.lockdown!)![1]} (Secure Boot): kexec -l of an unsigned kernel is refused; disable Secure Boot on the box`);
  for (const part of ['root', 'share', 'scratch'] as const) if (!kv[part]) p.push(`no ${part} partition ${lab[part]} on the box`);
  return p;
}

async function sha256(file: string): Promise<string> {
  const r = await execa('sha256sum', [file]);
  return String(r.stdout).split(' ')[0];
}

async function ext4Uuid(file: string): Promise<string> {
  const r = await execa('blkid', ['-p', '-s', 'UUID', '-o', 'value', file], { reject: false });
  return String(r.stdout).trim();
}
