// Host prerequisites, each with the exact fix. `bench` runs these first.
import { accessSync, constants, existsSync, statfsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isRoot } from './machines/host.js';
import { hostMirror } from './image/mirror.js';
import { cacheRoot } from './image/build.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Debian package that fixes it, when installing one does */
  package?: string;
  fix?: string;
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

const BINARIES: { bin: string; package: string; why: string }[] = [
  { bin: 'qemu-system-x86_64', package: 'qemu-system-x86', why: 'boots the guests' },
  { bin: 'mmdebstrap', package: 'mmdebstrap', why: 'builds the guest image' },
  { bin: 'mke2fs', package: 'e2fsprogs', why: 'makes the root and scratch filesystems' },
];

/** Free GiB needed in the cache: the image build holds rootfs and ext4 at once. */
const CACHE_FREE_GIB = 12;

export function hostChecks(): Check[] {
  const checks: Check[] = [];
  checks.push({ name: 'root', ok: isRoot(), detail: isRoot() ? 'running as root' : 'mmdebstrap, chroot builds and mke2fs -d need root', fix: 'run tracebench as root (sudo)' });
  for (const b of BINARIES) {
    const p = onPath(b.bin);
    checks.push({ name: b.bin, ok: !!p, detail: p ? `${p} (${b.why})` : `not found (${b.why})`, package: b.package, fix: `apt-get install -y ${b.package}` });
  }
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  checks.push({ name: 'debian-archive-keyring', ok: existsSync(keyring), detail: existsSync(keyring) ? keyring : `${keyring} missing (verifies the guest's packages)`, package: 'debian-archive-keyring', fix: 'apt-get install -y debian-archive-keyring' });
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
