// A simulated bare-metal lab box: a QEMU/TCG machine whose base OS (build.ts)
// answers ssh, kexecs kernels under test and comes back to its base on reset,
// with the disks a real box would have (tbroot, tbshare, scratch).
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { buildLabBox, type LabBoxImage } from './build.js';

export interface LabBox {
  host: '127.0.0.1';
  port: number;
  user: 'root';
  /** ssh private key */
  identity: string;
  /** file the serial console is written to (kept across resets and kexecs) */
  console: string;
  /** QEMU human monitor, unix socket */
  monitor: string;
  /** argv that hard-resets the box (QEMU system_reset), runnable from any cwd */
  powerCommand: string[];
  /** guest device paths: root = tbroot, share = tbshare, scratch = unformatted until the harness runs mke2fs */
  disks: { root: string; share: string; scratch: string };
  stop(): Promise<void>;
}

export interface LabBoxOptions {
  image: LabBoxImage;
  /** working directory: console.log, qemu.log, monitor.sock, share.img, scratch.img */
  dir: string;
  scratchGiB?: number;
  memoryMiB?: number;
  cpus?: number;
  /** QEMU start to ssh answering; TCG on a busy host is slow (default 120) */
  readyTimeoutS?: number;
}

const POWER_TS = fileURLToPath(new URL('./power.ts', import.meta.url));
const BASE_CMDLINE = 'console=ttyS0 tsc=reliable panic=-1 quiet';
const SHARE_MIB = 512;
/** PCI slots of the disks: fixed slots keep vda/vdb/vdc in this order whatever else is on the bus */
const DISKS = [
  { id: 'tbroot', slot: 0x8, dev: '/dev/vda' },
  { id: 'tbshare', slot: 0x9, dev: '/dev/vdb' },
  { id: 'tbscratch', slot: 0xa, dev: '/dev/vdc' },
] as const;

/** ssh options for the box (identity, port, no host-key bookkeeping: the host key is per build) then user@host. */
export function sshArgs(box: Pick<LabBox, 'host' | 'port' | 'user' | 'identity'>, connectTimeoutS = 5): string[] {
  return [
    '-i', box.identity,
    '-p', String(box.port),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    `${box.user}@${box.host}`,
  ];
}

/** A TCP port free right now on 127.0.0.1 (QEMU binds it a moment later; a clash fails the start loudly). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** QemuOpts value: a comma is doubled, else it would start the next option. */
const opt = (s: string) => s.replace(/,/g, ',,');

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '(none)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLabBox(o: LabBoxOptions): Promise<LabBox> {
  const build = await buildLabBox(o.image);
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const consoleLog = join(dir, 'console.log');
  const qemuLog = join(dir, 'qemu.log');
  const monitor = join(dir, 'monitor.sock');
  const share = join(dir, 'share.img');
  const scratch = join(dir, 'scratch.img');
  // sockaddr_un holds 107 bytes of path
  if (Buffer.byteLength(monitor) > 107) throw new Error(`lab box dir ${dir} is too deep for a unix socket path (${monitor})`);
  for (const f of [consoleLog, qemuLog, monitor, share, scratch]) rmSync(f, { force: true });

  // share: a real ext4 the base and the kernel under test both mount by label; scratch: sparse, blank
  const mk = await execa('mke2fs', ['-q', '-t', 'ext4', '-F', '-L', 'tbshare', share, `${SHARE_MIB}M`], { reject: false, all: true });
  if (mk.exitCode !== 0) throw new Error(`mke2fs could not make the share disk ${share}: ${mk.all}`);
  writeFileSync(scratch, '');
  truncateSync(scratch, (o.scratchGiB ?? 4) * 1024 ** 3);

  const port = await freePort();
  const drives: Record<(typeof DISKS)[number]['id'], string> = {
    // snapshot=on: writes go to a throwaway overlay, never into the cached image
    tbroot: `file=${opt(resolve(o.image.root))},format=raw,snapshot=on`,
    // unsafe: no host fsync; data still survives guest resets (QEMU stays up), only a host crash loses it
    tbshare: `file=${opt(share)},format=raw,cache=unsafe`,
    tbscratch: `file=${opt(scratch)},format=raw,cache=unsafe`,
  };
  const args = [
    '-name', 'tracebench-labbox',
    // one host thread for both vCPUs, as every local TCG guest: multi-threaded TCG races the
    // tracers' live text patching (setup, teardown) into "Oops: int3" (docs/reliability.md),
    // which a real box never does, so a lab e2e would fail on the emulation, not the backend
    '-machine', 'q35', '-accel', 'tcg,thread=single',
    '-cpu', 'max',
    '-smp', String(o.cpus ?? 2),
    '-m', String(o.memoryMiB ?? 3072),
    '-nodefaults',
    '-display', 'none',
    // no -no-reboot: a reset (kernel under test rebooting, or the power command) re-runs the -kernel base
    '-kernel', build.kernel,
    '-initrd', build.initrd,
    '-append', BASE_CMDLINE,
    '-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-chardev', `file,id=console,path=${opt(consoleLog)}`,
    '-serial', 'chardev:console',
    '-chardev', `socket,id=monitor,path=${opt(monitor)},server=on,wait=off`,
    '-mon', 'chardev=monitor,mode=readline',
    ...DISKS.flatMap((d) => [
      '-drive', `if=none,id=${d.id},${drives[d.id]}`,
      '-device', `virtio-blk-pci,drive=${d.id},serial=${d.id},bus=pcie.0,addr=${d.slot.toString(16)}`,
    ]),
  ];
  // detached: its own process group, so a Ctrl-C meant for the harness does not kill the box
  // and stop() takes down everything QEMU started; QEMU's own messages go to qemu.log
  const child = execa('qemu-system-x86_64', args, { detached: true, stdin: 'ignore', stdout: 'ignore', stderr: { file: qemuLog }, reject: false });
  let exited: { exitCode?: number; signal?: string } | undefined;
  const done = child.then((r) => {
    exited = { exitCode: r.exitCode, signal: r.signal };
  });
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // a harness that dies without stop() must not leave a guest spinning two host cores
  const onExit = () => kill('SIGKILL');
  process.on('exit', onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return done;
    stopped = true;
    process.off('exit', onExit);
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };

  const box: LabBox = {
    host: '127.0.0.1',
    port,
    user: 'root',
    identity: build.key,
    console: consoleLog,
    monitor,
    powerCommand: [process.execPath, '--import', import.meta.resolve('tsx'), POWER_TS, monitor],
    disks: { root: DISKS[0].dev, share: DISKS[1].dev, scratch: DISKS[2].dev },
    stop,
  };

  const timeoutS = o.readyTimeoutS ?? 120;
  const deadline = Date.now() + timeoutS * 1000;
  while (true) {
    if (exited) {
      await stop();
      throw new Error(`QEMU exited (${exited.exitCode ?? exited.signal}) before the lab box answered ssh:\n${tail(qemuLog, 10)}\nconsole (${consoleLog}):\n${tail(consoleLog, 10)}`);
    }
    const r = await execa('ssh', [...sshArgs(box), 'true'], { reject: false, timeout: 20_000, stdin: 'ignore' });
    if (r.exitCode === 0) return box;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`lab box did not answer ssh on 127.0.0.1:${port} within ${timeoutS} s (last: ${(r.stderr || r.shortMessage || '').trim()}); console (${consoleLog}) ends:\n${tail(consoleLog, 20)}`);
    }
    await sleep(1000);
  }
}

