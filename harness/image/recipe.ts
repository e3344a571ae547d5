// The guest image recipe as data. The image cache key is a hash of this recipe,
// the content of every `dir` copied into the image, and the options (mirror excepted:
// the same packages from another mirror are the same image).

/**
 * A build step run inside the image chroot after the packages are installed.
 * Contract for `script` (POSIX sh, run as root, cwd = /usr/src/tracebench/<dir>):
 *  - env: KVER (the image kernel release), TB_SRC (= cwd), TB_INFO (file to write)
 *  - network is available (apt-get download works)
 *  - writes `key=value` lines to $TB_INFO (versions, patches applied ...): they go
 *    into `tracebench image info` and every run's manifest
 *  - exits non-zero with a message naming what failed; the image build then stops
 */
export interface ImageStep {
  name: string;
  /** project-relative directory copied into the image at /usr/src/tracebench/<dir> */
  dir: string;
  script: string;
}

export interface ImageRecipe {
  suite: string;
  variant: string;
  packages: string[];
  steps: ImageStep[];
  /** directories created in the read-only root so the init can mount on them */
  mountPoints: string[];
  sizeGiB: number;
}

export const defaultRecipe: ImageRecipe = {
  suite: 'trixie',
  variant: 'apt',
  packages: [
    // kernel, its initrd and headers for out-of-tree modules
    'linux-image-amd64',
    'linux-headers-amd64',
    'initramfs-tools',
    'kmod',
    // workloads
    'dbench',
    'time',
    'linux-source',
    'build-essential',
    'bc',
    'flex',
    'bison',
    'libelf-dev',
    'libssl-dev',
    'cpio',
    'python3',
    // tracers' user space
    'lttng-tools',
    'babeltrace2',
    // guest plumbing
    'e2fsprogs',
    'procps',
    'util-linux',
    'iproute2',
    'xz-utils',
    'zstd',
  ],
  steps: [
    { name: 'syscall-loop', dir: 'workloads/syscall-loop', script: 'build-in-image.sh' },
    { name: 'kernbench', dir: 'workloads/kernbench', script: 'build-in-image.sh' },
    { name: 'lttng-modules', dir: 'harness/tracers/lttng', script: 'build-in-image.sh' },
    { name: 'ktrace', dir: 'ktrace', script: 'build-in-image.sh' },
  ],
  mountPoints: ['/tb', '/scratch', '/tb-trace', '/var/lib/lttng'],
  sizeGiB: 6,
};

/**
 * The recipe for one kernel of a suite: Debian's kernel package (and its headers,
 * which the tracer modules build against) replaces the default metapackage.
 * Each kernel gets its own cached image, so kernels are a version axis of a suite.
 */
export function recipeFor(kernelPackage: string): ImageRecipe {
  const headers = kernelPackage.replace(/^linux-image-/, 'linux-headers-');
  return {
    ...defaultRecipe,
    packages: defaultRecipe.packages.map((p) => (p === 'linux-image-amd64' ? kernelPackage : p === 'linux-headers-amd64' ? headers : p)),
  };
}
