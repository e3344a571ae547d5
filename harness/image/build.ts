// Builds the guest image (mmdebstrap -> chroot build steps -> ext4 via mke2fs -d)
// and caches it under $XDG_CACHE_HOME/tracebench/images/<hash>, where the hash
// covers everything that goes in. A second build with the same inputs is a no-op.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, createWriteStream, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { ExitCode, TracebenchError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import { shellQuote } from '../shell-quote.js';
import { defaultRecipe, INPUTS_DIR, type ImageRecipe, type StepInput } from './recipe.js';

const GUEST_INIT = join(PROJECT_ROOT, 'harness/image/guest-init.sh');
/** what the virtio-initrd step leaves in the image's /boot */
const VIRTIO_INITRD = 'tb-initrd-virtio.img';
/** what the pvh-vmlinux step leaves in the image's /boot (a kernel without CONFIG_PVH: nothing) */
const PVH_VMLINUX = 'tb-vmlinux-pvh';

/** bump when the build procedure changes in a way the recipe does not show */
const BUILDER_VERSION = 1;

export interface ImageInfo {
  key: string;
  dir: string;
  kernel: string;
  initrd: string;
  /** the QEMU machine's minimal initramfs (harness/image/virtio-initrd); images built before it have none */
  virtioInitrd?: string;
  /** the kernel as an uncompressed vmlinux with a PVH entry (harness/image/pvh-vmlinux): QEMU boots it */
  pvhKernel?: string;
  root: string;
  kernelRelease: string;
  kernelConfigHash: string;
  suite: string;
  mirror: string;
  builtAt: string;
  buildS: number;
  steps: Record<string, Record<string, string>>;
  packages: Record<string, string>;
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tracebench');
}

/**
 * Host-side files that live next to an image step (the driver's TypeScript, docs,
 * test fixtures) do not change what the guest runs, so they do not change the key:
 * editing a driver must not cost a ten-minute image rebuild.
 */
export function affectsImage(relPath: string): boolean {
  return !/\.(ts|md)$/.test(relPath) && !relPath.split('/').includes('fixtures');
}

/** Version-control metadata is neither hashed nor copied: a commit must not change the image. */
const VCS_DIRS = new Set(['.git', '.hg', '.svn']);

/** Hash every file under `dir` that affects the image, named by `prefix` + its path below `dir`. */
function hashTree(h: ReturnType<typeof createHash>, dir: string, prefix: string): void {
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      const rel = prefix + relative(dir, p);
      if (st.isDirectory()) {
        if (!VCS_DIRS.has(name)) walk(p);
      } else if (affectsImage(rel)) {
        h.update(rel + '\0');
        h.update(readFileSync(p));
        h.update('\0');
      }
    }
  };
  walk(dir);
}

/** sha256 of one file, read in 1 MiB chunks (a kernel tree holds large files). */
function fileSha256(file: string, buf: Buffer): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Hash a tree (or file) exactly as it is copied: every file by its sha256, every
 * symlink by its target (never followed), VCS metadata excepted. For kernel inputs.
 */
function hashExact(h: ReturnType<typeof createHash>, path: string, prefix: string): void {
  const buf = Buffer.alloc(1 << 20);
  const visit = (p: string, rel: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) h.update(`${rel}\0->${readlinkSync(p)}\0`);
    else if (st.isDirectory()) {
      h.update(`${rel}/\0`);
      for (const name of readdirSync(p).sort()) if (!VCS_DIRS.has(name)) visit(join(p, name), `${rel}/${name}`);
    } else if (st.isFile()) h.update(`${rel}\0${fileSha256(p, buf)}\0`);
  };
  visit(path, prefix);
}

/** The recipe as hashed: inputs by where they land, never by their host path (their content is hashed). */
function keyedRecipe(recipe: ImageRecipe): unknown {
  return { ...recipe, steps: recipe.steps.map(({ inputs, ...step }) => (inputs ? { ...step, inputs: inputs.map((i) => ({ as: i.as })) } : step)) };
}

/** The cache key: recipe, guest init and every file copied into the image (step dirs and inputs). */
export function imageKey(recipe: ImageRecipe = defaultRecipe): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ recipe: keyedRecipe(recipe), BUILDER_VERSION }));
  h.update(readFileSync(GUEST_INIT));
  for (const step of recipe.steps) {
    const dir = join(PROJECT_ROOT, step.dir);
    if (existsSync(dir)) hashTree(h, dir, relative(PROJECT_ROOT, dir) + '/');
    for (const input of step.inputs ?? []) {
      if (!existsSync(input.path)) continue;
      if (input.exact) hashExact(h, input.path, `inputs/${input.as}`);
      else if (statSync(input.path).isDirectory()) hashTree(h, input.path, `inputs/${input.as}/`);
      else h.update(`inputs/${input.as}\0`).update(readFileSync(input.path)).update('\0');
    }
  }
  return h.digest('hex').slice(0, 16);
}

export function imageDir(key: string): string {
  return join(cacheRoot(), 'images', key);
}

export function readImageInfo(key: string): ImageInfo | null {
  const f = join(imageDir(key), 'image.json');
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as ImageInfo;
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function envName(k: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new TracebenchError({ message: `image step env: "${k}" is not a shell variable name`, exitCode: ExitCode.internal });
  return k;
}

/** Copy one step input (a tree without its VCS metadata, or a file as is) to INPUTS_DIR/<as> in the image. */
function copyInput(input: StepInput): string {
  const src = shellQuote(input.path);
  const dst = `"$R"${shellQuote(`${INPUTS_DIR}/${input.as}`)}`;
  return (
    `if [ -d ${src} ]; then rm -rf ${dst} && mkdir -p ${dst} && tar -C ${src} ${[...VCS_DIRS].map((d) => `--exclude=./${d}`).join(' ')} -cf - . | tar -C ${dst} -xf -; ` +
    `else mkdir -p "$(dirname ${dst})" && cp ${src} ${dst}; fi`
  );
}

/** The chroot part of the build, run by mmdebstrap as a customize hook with $1 = root. */
export function customizeScript(recipe: ImageRecipe): string {
  const lines = [
    'set -eu',
    'R="$1"',
    // a user-supplied kernel names its release; a Debian kernel package made the one directory there
    recipe.kernelRelease ? `KVER=${shellQuote(recipe.kernelRelease)}` : 'KVER=$(ls "$R/lib/modules" | head -n 1)',
    // host paths (the checkout may live anywhere) are single-quoted: in double quotes $( ) and ` still run
    `install -m 0755 ${shellQuote(GUEST_INIT)} "$R/sbin/tb-init"`,
    ...recipe.mountPoints.map((m) => `mkdir -p "$R"${shellQuote(m)}`),
    'mkdir -p "$R/usr/share/tracebench"',
  ];
  for (const step of recipe.steps) {
    const src = join(PROJECT_ROOT, step.dir);
    const dst = `/usr/src/tracebench/${step.dir}`;
    const env = Object.entries(step.env ?? {}).map(([k, v]) => `${envName(k)}=${shellQuote(v)} `).join('');
    const say = (what: string) => `echo ${shellQuote(`tracebench-step: ${what} ${step.name}`)}`;
    lines.push(
      say('start'),
      `mkdir -p "$R"${shellQuote(dst)}`,
      `cp -a ${shellQuote(`${src}/.`)} "$R"${shellQuote(`${dst}/`)}`,
      ...(step.inputs ?? []).map((i) => copyInput(i)),
      `chroot "$R" env KVER="$KVER" TB_SRC=${shellQuote(dst)} TB_INFO=${shellQuote(`/usr/share/tracebench/${step.name}.info`)} ${env}sh -c ${shellQuote(`cd "$TB_SRC" && sh ${shellQuote(`./${step.script}`)}`)} ` +
        `|| { ${say('failed')}; exit 1; }`,
      say('done'),
    );
  }
  lines.push(`chroot "$R" dpkg-query -W -f '\${Package}=\${Version}\\n' > "$R/usr/share/tracebench/packages.txt"`);
  return lines.join('\n') + '\n';
}

/**
 * mmdebstrap's --customize-hook option running `hook` (a host path under the
 * cache directory, which may hold any character): mmdebstrap runs the hook's
 * text with `sh -c`, the image root as $1.
 */
export function customizeHook(hook: string): string {
  return `--customize-hook=sh ${shellQuote(hook)} "$1"`;
}

export interface BuildOptions {
  recipe?: ImageRecipe;
  mirror: string;
  force?: boolean;
  onProgress?: (line: string) => void;
}

export async function buildImage(opts: BuildOptions): Promise<{ info: ImageInfo; reused: boolean }> {
  const recipe = opts.recipe ?? defaultRecipe;
  for (const step of recipe.steps) {
    if (!existsSync(join(PROJECT_ROOT, step.dir, step.script))) {
      throw new TracebenchError({ message: `image step "${step.name}": ${step.dir}/${step.script} is missing`, exitCode: ExitCode.host });
    }
    for (const input of step.inputs ?? []) {
      if (!existsSync(input.path)) throw new TracebenchError({ message: `image step "${step.name}": input ${input.path} is missing`, hint: 'check the path in the kernel config', exitCode: ExitCode.usage });
    }
  }
  const key = imageKey(recipe);
  const existing = readImageInfo(key);
  if (existing && !opts.force) return { info: existing, reused: true };

  const started = Date.now();
  const final = imageDir(key);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const rootfs = join(tmp, 'rootfs');
  const logPath = join(tmp, 'build.log');
  const log = createWriteStream(logPath);
  const hook = join(tmp, 'customize.sh');
  writeFileSync(hook, customizeScript(recipe));
  let failedStep: string | undefined;
  const run = async (file: string, args: string[]) => {
    log.write(`$ ${file} ${args.join(' ')}\n`);
    const child = execa(file, args, { reject: false, all: true, buffer: false, stdin: 'ignore' });
    let partial = '';
    child.all?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^tracebench-step: (start|done|failed) (\S+)/.exec(l);
        if (m?.[1] === 'failed') failedStep = m[2];
        if (m || /^I: /.test(l)) opts.onProgress?.(l);
      }
    });
    const r = await child;
    if (r.exitCode !== 0) {
      await new Promise<void>((res) => log.end(res));
      const tail = readFileSync(logPath, 'utf8').split('\n').slice(-25).join('\n');
      const firstError = readFileSync(logPath, 'utf8').split('\n').find((l) => /error[:]|tracebench-step: failed|^E: /.test(l));
      throw new TracebenchError({
        message:
          (failedStep ? `image build step "${failedStep}" failed` : `${file} failed (exit ${r.exitCode})`) +
          (firstError ? `: ${firstError.trim()}` : '') +
          `\n--- last lines of ${logPath} ---\n${tail}`,
        hint: 'the full log is kept; fix the cause and run `tracebench image build` again',
        exitCode: ExitCode.host,
      });
    }
  };

  await run('mmdebstrap', [
    `--variant=${recipe.variant}`,
    `--include=${recipe.packages.join(',')}`,
    '--components=main',
    customizeHook(hook),
    recipe.suite,
    rootfs,
    `deb ${opts.mirror} ${recipe.suite} main`,
  ]);
  const kver = recipe.kernelRelease ?? readdirSync(join(rootfs, 'lib/modules'))[0];
  copyFileSync(join(rootfs, 'boot', `vmlinuz-${kver}`), join(tmp, 'vmlinuz'));
  copyFileSync(join(rootfs, 'boot', `initrd.img-${kver}`), join(tmp, 'initrd.img'));
  const virtioInitrd = existsSync(join(rootfs, 'boot', VIRTIO_INITRD));
  if (virtioInitrd) copyFileSync(join(rootfs, 'boot', VIRTIO_INITRD), join(tmp, 'initrd-virtio.img'));
  const pvhKernel = existsSync(join(rootfs, 'boot', PVH_VMLINUX));
  if (pvhKernel) {
    copyFileSync(join(rootfs, 'boot', PVH_VMLINUX), join(tmp, 'vmlinux-pvh'));
    chmodSync(join(tmp, 'vmlinux-pvh'), 0o644); // the step wrote it from mktemp (0600)
  }
  const configHash = createHash('sha256').update(readFileSync(join(rootfs, 'boot', `config-${kver}`))).digest('hex');
  const steps: ImageInfo['steps'] = {};
  for (const step of recipe.steps) {
    const f = join(rootfs, 'usr/share/tracebench', `${step.name}.info`);
    steps[step.name] = existsSync(f) ? parseInfo(readFileSync(f, 'utf8')) : {};
  }
  const packages = parseInfo(readFileSync(join(rootfs, 'usr/share/tracebench/packages.txt'), 'utf8'));
  // -d populates the filesystem from the directory without mounting anything
  await run('mke2fs', ['-q', '-t', 'ext4', '-L', 'tbroot', '-E', 'root_owner=0:0', '-d', rootfs, join(tmp, 'root.ext4'), `${recipe.sizeGiB}G`]);
  rmSync(rootfs, { recursive: true, force: true });
  await new Promise<void>((res) => log.end(res));
  const info: ImageInfo = {
    key,
    dir: final,
    kernel: join(final, 'vmlinuz'),
    initrd: join(final, 'initrd.img'),
    ...(virtioInitrd ? { virtioInitrd: join(final, 'initrd-virtio.img') } : {}),
    ...(pvhKernel ? { pvhKernel: join(final, 'vmlinux-pvh') } : {}),
    ...(virtioInitrd && /\bvirtio_mmio\b/.test(steps['virtio-initrd']?.modules ?? '') ? { microvm: true } : {}),
    root: join(final, 'root.ext4'),
    kernelRelease: kver,
    kernelConfigHash: configHash,
    suite: recipe.suite,
    mirror: opts.mirror,
    builtAt: new Date().toISOString(),
    buildS: (Date.now() - started) / 1000,
    steps,
    packages,
  };
  writeFileSync(join(tmp, 'image.json'), JSON.stringify(info, null, 2) + '\n');
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return { info, reused: false };
}

/** Remove every cached image but `keep` (and any unfinished build directory). Returns what was removed. */
export function pruneImages(keep: string): string[] {
  const root = join(cacheRoot(), 'images');
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (name === keep) continue;
    // an unfinished build whose process still runs is left alone
    const pid = /\.tmp-(\d+)$/.exec(name)?.[1];
    if (pid && existsSync(`/proc/${pid}`)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return removed;
}
