// Builds the base OS of the simulated lab box: a small initramfs (busybox,
// dropbear sshd, kexec-tools, mke2fs, blkid) booted with the image's own vmlinuz.
// The kernel's modules for disks, network and ext4 come from the image's root.ext4
// (read with debugfs, never mounted), so no host kernel package is needed.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

export interface LabBoxImage {
  /** bzImage: boots the base OS and is also the usual kernel under test */
  kernel: string;
  /** the tracebench root filesystem (ext4, label tbroot); only read here */
  root: string;
}

export interface LabBoxBuild {
  dir: string;
  /** the base kernel (the image's vmlinuz, used in place) */
  kernel: string;
  /** base initramfs (cpio.gz) */
  initrd: string;
  /** ssh client private key (ed25519, no passphrase) whose public half is root's authorized key */
  key: string;
  pubkey: string;
  /** kernel release of the base (read from the bzImage header) */
  release: string;
}

/** Modules the base needs; their dependencies are read from modules.dep, built-in ones skipped. */
const WANTED_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4', 'crc32c_generic'];

/**
 * Real tools for the base. busybox's mke2fs cannot make the ext4 the harness asks for, and
 * Debian's static busybox sh runs its own applets before PATH (FEATURE_SH_STANDALONE), so
 * /bin/sh is dash: with it PATH decides, and these win over the busybox applets.
 */
const HOST_TOOLS = [
  { name: 'dash', dest: '/bin/dash', pkg: 'dash' },
  { name: 'dropbear', dest: '/usr/sbin/dropbear', pkg: 'dropbear-bin' },
  { name: 'kexec', dest: '/sbin/kexec', pkg: 'kexec-tools' },
  { name: 'mke2fs', dest: '/sbin/mke2fs', pkg: 'e2fsprogs' },
  { name: 'blkid', dest: '/sbin/blkid', pkg: 'util-linux' },
] as const;

// Runs as PID 1 of the base: modules, network, sshd, then busybox init, which only
// reaps orphans (the detached `kexec -e` shell outlives its ssh session).
const INIT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
echo 1 > /proc/sys/kernel/sysrq
while read -r m; do
  insmod "/lib/labbox-modules/$m.ko" || echo "LABBOX-WARN insmod $m failed"
done < /etc/labbox/modules
hostname labbox
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
dropbear -s -E -p 22 -r /etc/dropbear/dropbear_ed25519_host_key 2>>/var/log/dropbear.log
disks=
for b in /sys/block/vd*; do
  [ -e "$b" ] && disks="$disks\${disks:+,}\${b##*/}=$(cat "$b/serial" 2>/dev/null)"
done
echo "LABBOX-UP release=$(uname -r) boot_id=$(cat /proc/sys/kernel/random/boot_id) disks=$disks"
exec /sbin/init
`;

const INITTAB = `# labbox: nothing to spawn; init reaps orphans and reboots on request
::ctrlaltdel:/bin/reboot -f
`;

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tracebench');
}

/** Kernel release from a bzImage header (boot protocol: u16 at 0x20e points to the version string, minus 0x200). */
export function bzImageRelease(kernel: string): string {
  const head = readFileSync(kernel).subarray(0, 64 * 1024);
  if (head.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error(`${kernel} is not a bzImage (no HdrS header)`);
  const at = head.readUInt16LE(0x20e) + 0x200;
  const release = head.toString('latin1', at, head.indexOf(0, at)).split(' ')[0];
  if (!release) throw new Error(`${kernel}: empty kernel version string`);
  return release;
}

/** A host binary by name: PATH first, then the sbin directories a non-root PATH lacks. */
function hostTool(name: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (d && existsSync(p)) return p;
  }
  throw new Error(`the lab box needs ${name} on the host: apt-get install ${pkg}`);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Identity of a file that is too big to hash on every call (root.ext4) or comes from the host. */
function fileId(path: string): string {
  const s = statSync(path);
  return `${resolve(path)}:${s.size}:${s.mtimeMs}`;
}

/** Shared libraries of a dynamic executable (absolute paths, loader included); [] for a static one. */
async function sharedLibs(binary: string): Promise<string[]> {
  const r = await execa('ldd', [binary], { reject: false });
  if (r.exitCode !== 0) return []; // "not a dynamic executable"
  return r.stdout.split('\n').flatMap((l) => l.match(/(\/\S+)/)?.[1] ?? []);
}

/** Runs debugfs commands read-only against an ext4 image; debugfs exits 0 even on failures, so callers check outputs. */
async function debugfs(image: string, commands: string[], cmdFile: string): Promise<string> {
  writeFileSync(cmdFile, commands.join('\n') + '\n');
  const r = await execa('debugfs', ['-f', cmdFile, image], { all: true, reject: false });
  if (r.exitCode !== 0) throw new Error(`debugfs failed on ${image}: ${r.all}`);
  return r.all ?? '';
}

/** Module name as modprobe spells it: basename without .ko[.xz], dashes as underscores. */
function moduleName(path: string): string {
  return path.split('/').pop()!.replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
}

/** Load order (dependencies first) of the wanted modules that are not built in. */
export function moduleLoadOrder(wanted: string[], modulesDep: string, modulesBuiltin: string): string[] {
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName));
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    deps.set(moduleName(path), { path, deps: rest.trim().split(/\s+/).filter(Boolean).map(moduleName) });
  }
  const order: string[] = [];
  const visit = (name: string, chain: string[]) => {
    if (builtin.has(name) || order.includes(name)) return;
    const m = deps.get(name);
    if (!m) throw new Error(`module ${name} (wanted by ${chain.join(' <- ') || 'the lab box'}) is neither in modules.dep nor built in`);
    for (const d of m.deps) visit(d, [name, ...chain]);
    order.push(name);
  };
  for (const w of wanted) visit(w, []);
  return order.map((n) => deps.get(n)!.path);
}

/** Every file and directory under root as ./relative paths, sorted (a stable cpio); symlinks are not followed. */
function listTree(root: string, rel = '.'): string[] {
  const out = [rel];
  if (lstatSync(join(root, rel)).isDirectory()) {
    for (const e of readdirSync(join(root, rel)).sort()) out.push(...listTree(root, `${rel}/${e}`));
  }
  return out;
}

function copyInto(root: string, hostPath: string, dest = hostPath): void {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(hostPath, to); // follows symlinks: the initramfs holds real files
  chmodSync(to, 0o755);
}

/**
 * The lab box's base initramfs and ssh key, cached under ~/.cache/tracebench/labbox/<key>/.
 * The key covers this recipe, the kernel, the image's root.ext4 and the host tools copied in.
 */
export async function buildLabBox(image: LabBoxImage): Promise<LabBoxBuild> {
  const kernel = resolve(image.kernel);
  const rootImage = resolve(image.root);
  const release = bzImageRelease(kernel);
  const busybox = hostTool('busybox', 'busybox-static');
  const tools = HOST_TOOLS.map((t) => ({ ...t, path: hostTool(t.name, t.pkg) }));
  for (const [name, pkg] of [['debugfs', 'e2fsprogs'], ['xz', 'xz-utils'], ['cpio', 'cpio'], ['ssh-keygen', 'openssh-client'], ['dropbearkey', 'dropbear-bin'], ['ldd', 'libc-bin']]) {
    hostTool(name, pkg);
  }
  const key = sha256(
    [
      sha256(readFileSync(fileURLToPath(import.meta.url))),
      sha256(readFileSync(kernel)),
      fileId(rootImage),
      fileId(busybox),
      ...tools.map((t) => fileId(t.path)),
    ].join('\n'),
  ).slice(0, 16);
  const dir = join(cacheRoot(), 'labbox', key);
  const result = (): LabBoxBuild => ({
    dir,
    kernel,
    initrd: join(dir, 'initrd.cpio.gz'),
    key: join(dir, 'id_ed25519'),
    pubkey: join(dir, 'id_ed25519.pub'),
    release,
  });
  if (existsSync(join(dir, 'initrd.cpio.gz'))) return result();

  // built beside the final dir and renamed: a half-built dir never looks complete
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const root = join(tmp, 'root');
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/labbox', 'etc/dropbear', 'lib/labbox-modules', 'proc', 'sys', 'dev', 'run', 'tmp', 'var/log', 'var/lib/tracebench', 'mnt/share', 'mnt/scratch', 'root/.ssh']) {
      mkdirSync(join(root, d), { recursive: true });
    }
    chmodSync(join(root, 'tmp'), 0o1777);
    chmodSync(join(root, 'root'), 0o700);
    chmodSync(join(root, 'root/.ssh'), 0o700);

    // modules: the list and their files come out of the image's root filesystem
    const modDir = `/usr/lib/modules/${release}`;
    const meta = join(tmp, 'meta');
    mkdirSync(meta);
    await debugfs(rootImage, [`dump -p ${modDir}/modules.dep ${meta}/modules.dep`, `dump -p ${modDir}/modules.builtin ${meta}/modules.builtin`], join(tmp, 'debugfs.cmd'));
    if (!existsSync(join(meta, 'modules.dep'))) throw new Error(`${rootImage} has no ${modDir}/modules.dep: does the image match ${kernel} (release ${release})?`);
    const order = moduleLoadOrder(WANTED_MODULES, readFileSync(join(meta, 'modules.dep'), 'utf8'), readFileSync(join(meta, 'modules.builtin'), 'utf8'));
    const modsOut = join(root, 'lib/labbox-modules');
    const fileOf = (p: string) => join(modsOut, p.split('/').pop()!);
    await debugfs(rootImage, order.map((p) => `dump -p ${modDir}/${p} ${fileOf(p)}`), join(tmp, 'debugfs.cmd'));
    for (const p of order) {
      const f = fileOf(p);
      if (!existsSync(f)) throw new Error(`debugfs could not read ${modDir}/${p} from ${rootImage}`);
      if (f.endsWith('.xz')) await execa('xz', ['-d', '-f', f]);
      else if (!f.endsWith('.ko')) throw new Error(`${p}: only .ko and .ko.xz modules are handled`);
    }
    writeFileSync(join(root, 'etc/labbox/modules'), order.map(moduleName).join('\n') + '\n');

    // userland: static busybox for the utilities, dash as sh, real tools with their libraries
    copyInto(root, busybox, '/bin/busybox');
    const real = new Set<string>(tools.map((t) => t.name));
    const applets = (await execa(busybox, ['--list'])).stdout.split('\n').filter((a) => a && !['busybox', 'sh'].includes(a) && !real.has(a));
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    symlinkSync('dash', join(root, 'bin/sh'));
    symlinkSync('../bin/busybox', join(root, 'sbin/init'));
    const libs = new Set<string>();
    for (const t of tools) {
      copyInto(root, t.path, t.dest);
      for (const l of await sharedLibs(t.path)) libs.add(l);
    }
    for (const l of libs) copyInto(root, l);
    if (existsSync('/etc/mke2fs.conf')) copyFileSync('/etc/mke2fs.conf', join(root, 'etc/mke2fs.conf'));

    // accounts and ssh: root logs in with the cached key only (-s: no passwords)
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    writeFileSync(join(root, 'etc/shells'), '/bin/sh\n');
    writeFileSync(join(root, 'etc/hostname'), 'labbox\n');
    writeFileSync(join(root, 'etc/inittab'), INITTAB);
    writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tracebench-labbox', '-f', join(tmp, 'id_ed25519')]);
    copyFileSync(join(tmp, 'id_ed25519.pub'), join(root, 'root/.ssh/authorized_keys'));
    chmodSync(join(root, 'root/.ssh/authorized_keys'), 0o600);
    await execa('dropbearkey', ['-t', 'ed25519', '-f', join(root, 'etc/dropbear/dropbear_ed25519_host_key')]);

    // -R 0:0: dropbear refuses authorized_keys not owned by root, whoever builds this
    const cpio = await execa('cpio', ['-o', '-H', 'newc', '--quiet', '-R', '0:0'], {
      cwd: root,
      input: listTree(root).join('\n') + '\n',
      encoding: 'buffer',
    });
    writeFileSync(join(tmp, 'initrd.cpio.gz'), gzipSync(cpio.stdout, { level: 6 }));
    rmSync(root, { recursive: true, force: true });
    rmSync(meta, { recursive: true, force: true });
    rmSync(join(tmp, 'debugfs.cmd'), { force: true });
    writeFileSync(join(tmp, 'labbox.json'), JSON.stringify({ key, release, kernel, root: rootImage, modules: order.map(moduleName), builtAt: new Date().toISOString() }, null, 2) + '\n');
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process finished the same build first: theirs is as good as ours
      if (!existsSync(join(dir, 'initrd.cpio.gz'))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return result();
}
