// The guest image recipe as data. The image cache key is a hash of this recipe,
// the content of every `dir` and input copied into the image, and the options
// (mirror excepted: the same packages from another mirror are the same image).
import { basename } from 'node:path';
import type { HostSource, KernelConfig } from '../config.js';
import { tracers } from '../tracers/index.js';
import type { TracerDriver } from '../types.js';

/** The registered drivers, in registry order: their packages and steps follow the base recipe's. */
const drivers = (): TracerDriver[] => Object.values(tracers as Record<string, TracerDriver>);

/**
 * A build step run inside the image chroot after the packages are installed.
 * Contract for `script` (POSIX sh, run as root, cwd = /usr/src/tracebench/<dir>):
 *  - env: KVER (the image kernel release), TB_SRC (= cwd), TB_INFO (file to write),
 *    plus the step's own `env` (which names its `inputs` by their image paths)
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
  /** host sources the step builds instead of its default one (a kernel config's version axes) */
  inputs?: StepInput[];
  /** extra environment for `script`; values are image paths or plain words */
  env?: Record<string, string>;
}

/**
 * A host file or directory copied into the image at /usr/src/tracebench/inputs/<as>.
 * The key hashes its content, never `path`: the same tree elsewhere on the host is the same image.
 */
export interface StepInput {
  /** absolute host path of a directory or a file (e.g. a tarball) */
  path: string;
  /** where it lands, relative to INPUTS_DIR */
  as: string;
  /**
   * Hash every file and symlink as is (a kernel's modules or headers: none of its
   * files is host-side only). Default: the step-directory rules (no .md, .ts, fixtures/).
   */
  exact?: boolean;
}

/** where step inputs are copied in the image */
export const INPUTS_DIR = '/usr/src/tracebench/inputs';

export interface ImageRecipe {
  suite: string;
  variant: string;
  packages: string[];
  steps: ImageStep[];
  /** directories created in the read-only root so the init can mount on them */
  mountPoints: string[];
  sizeGiB: number;
  /**
   * The kernel release the steps build for (KVER). Unset: the one directory a
   * Debian kernel package put in /lib/modules. Set for a user-supplied kernel.
   */
  kernelRelease?: string;
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
    // guest plumbing
    'e2fsprogs',
    // the virtio initramfs's one binary (harness/image/virtio-initrd)
    'busybox-static',
    'procps',
    'util-linux',
    'iproute2',
    'xz-utils',
    'zstd',
    // tracers' user space: each driver declares its own (harness/tracers/index.ts)
    ...drivers().flatMap((d) => d.image?.packages ?? []),
  ],
  steps: [
    { name: 'syscall-loop', dir: 'workloads/syscall-loop', script: 'build-in-image.sh' },
    { name: 'pipe-pingpong', dir: 'workloads/pipe-pingpong', script: 'build-in-image.sh' },
    // after the kernel is in (a local kernel's step comes first): the QEMU machine's initramfs
    { name: 'virtio-initrd', dir: 'harness/image/virtio-initrd', script: 'build-in-image.sh' },
    // and the kernel as a vmlinux QEMU enters through PVH (no decompression under TCG)
    { name: 'pvh-vmlinux', dir: 'harness/image/pvh-vmlinux', script: 'build-in-image.sh' },
    { name: 'kernbench', dir: 'workloads/kernbench', script: 'build-in-image.sh' },
    // tracers' build steps (out-of-tree modules ...), declared by each driver
    ...drivers().flatMap((d) => d.image?.steps ?? []),
  ],
  mountPoints: ['/tb', '/scratch', '/tb-trace', '/var/lib/lttng'],
  sizeGiB: 6,
};

/**
 * The recipe for one kernel entry of a suite (the system under test): Debian's
 * kernel package (and its headers, which the tracer modules build against)
 * replaces the default metapackage, and the tracer steps get the sources the
 * entry names instead of their defaults. Each kernel entry gets its own cached
 * image, so the kernel and the tracer sources are version axes of a suite.
 */
export function recipeFor(kernel: KernelConfig): ImageRecipe {
  const sources = kernel as unknown as Record<string, string | HostSource>;
  const steps = defaultRecipe.steps.map((step) => {
    const axis = drivers().find((d) => d.sourceAxis?.step === step.name)?.sourceAxis;
    const src = axis && sources[axis.field];
    if (axis && src && typeof src !== 'string') return withInput(step, src, axis.step, axis.envVar);
    return step;
  });
  const localScripts: Record<string, string> = Object.assign({}, ...drivers().map((d) => d.image?.localKernelScripts ?? {}));
  if (kernel.source === 'local') {
    // No Debian kernel: the user's kernel is installed by the first step, so every later step has it (KVER = its release).
    return {
      ...defaultRecipe,
      packages: [...defaultRecipe.packages.filter((p) => !DEBIAN_KERNEL_PACKAGES.includes(p)), ...LOCAL_KERNEL_PACKAGES],
      steps: [localKernelStep(kernel), ...steps.map((s) => (localScripts[s.name] ? { ...s, script: localScripts[s.name] } : s))],
      kernelRelease: kernel.release,
    };
  }
  const headers = kernel.package.replace(/^linux-image-/, 'linux-headers-');
  return {
    ...defaultRecipe,
    packages: defaultRecipe.packages.map((p) => (p === 'linux-image-amd64' ? kernel.package : p === 'linux-headers-amd64' ? headers : p)),
    steps,
  };
}

/** What a user-supplied kernel replaces (initramfs-tools and kmod stay: they make its initrd). */
const DEBIAN_KERNEL_PACKAGES = ['linux-image-amd64', 'linux-headers-amd64'];

/**
 * What Debian's headers package brings that building modules against any kernel
 * tree may need: pahole makes the modules' BTF when the kernel has
 * CONFIG_DEBUG_INFO_BTF_MODULES (and a vmlinux in its tree).
 */
const LOCAL_KERNEL_PACKAGES = ['pahole'];

/** where the local-kernel step finds its inputs in the image */
const LOCAL_KERNEL_INPUTS = `${INPUTS_DIR}/kernel`;

/**
 * Installs a user-supplied kernel: modules to /lib/modules/<release>, headers to
 * /usr/src/linux-headers-<release> (with the build link), bzImage and .config to
 * /boot, then depmod and Debian's initramfs for it. The inputs land under fixed
 * names: the key hashes their content, and the manifest records the bzImage's name.
 */
function localKernelStep(kernel: Extract<KernelConfig, { source: 'local' }>): ImageStep {
  return {
    name: 'kernel',
    dir: 'harness/image/local-kernel',
    script: 'install-in-image.sh',
    inputs: [
      { path: kernel.bzImage, as: 'kernel/bzImage', exact: true },
      { path: kernel.modules, as: 'kernel/modules', exact: true },
      { path: kernel.headers, as: 'kernel/headers', exact: true },
    ],
    env: { KERNEL_BZIMAGE: `${LOCAL_KERNEL_INPUTS}/bzImage`, KERNEL_MODULES: `${LOCAL_KERNEL_INPUTS}/modules`, KERNEL_HEADERS: `${LOCAL_KERNEL_INPUTS}/headers` },
  };
}

/**
 * The input keeps its host base name (inputs/<name>/<basename>): the step records it
 * as `source=path:<basename>`, so renaming it is a different image, moving it is not.
 */
function withInput(step: ImageStep, src: HostSource, name: string, envVar: string): ImageStep {
  const as = `${name}/${basename(src.path)}`;
  return { ...step, inputs: [{ path: src.path, as }], env: { [envVar]: `${INPUTS_DIR}/${as}` } };
}
