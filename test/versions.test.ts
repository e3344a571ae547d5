// Versions as axes (docs/versions.md): a kernel entry names the kernel package and
// the lttng-modules and ktrace sources built into its image. Fast: no image is built.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { listConfigs, loadKernelConfig, loadSuite, type KernelConfig } from '../harness/config.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { customizeScript, imageKey } from '../harness/image/build.js';
import { defaultRecipe, recipeFor } from '../harness/image/recipe.js';
import { CONFIG_ROOT, PROJECT_ROOT } from '../harness/paths.js';
import { shellQuote } from '../harness/shell-quote.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tracebench-versions-'));

/** The problems of a config error, exactly as printed (`  path: message` lines). */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TracebenchError, `expected a TracebenchError, got ${e}`);
    assert.equal(e.exitCode, ExitCode.usage);
    return e.message.split('\n').slice(1).map((l) => l.trim());
  }
  return assert.fail('expected an error');
}

/** A directory with a fake lttng-modules tree, a tarball, a ktrace tree, and kernels/ for the YAML. */
function sources(): string {
  const dir = tmp();
  mkdirSync(join(dir, 'lttng-modules-2.13.99/src'), { recursive: true });
  writeFileSync(join(dir, 'lttng-modules-2.13.99/src/Kbuild'), 'obj-m += lttng-tracer.o\n');
  writeFileSync(join(dir, 'lttng-modules-2.13.99/README.md'), 'notes\n');
  writeFileSync(join(dir, 'lttng-modules-2.13.99.tar.xz'), 'not really xz\n');
  mkdirSync(join(dir, 'ktrace-next'));
  for (const f of ['Kbuild', 'Makefile', 'core.c']) writeFileSync(join(dir, 'ktrace-next', f), `${f}\n`);
  mkdirSync(join(dir, 'kernels'));
  return dir;
}

function kernelYaml(dir: string, body: string): string {
  const f = join(dir, 'kernels', 'k.yaml');
  writeFileSync(f, `name: k\nsource: debian-package\n${body}`);
  return f;
}

const loadKernel = (dir: string, body: string) => loadKernelConfig(kernelYaml(dir, body));

describe('kernel config: tracer sources', () => {
  test('the shipped debian kernel loads unchanged, with Debian lttng-modules and the repository ktrace', () => {
    const k = loadKernelConfig(join(CONFIG_ROOT, 'kernels/debian.yaml'));
    assert.ok(k.source === 'debian-package');
    assert.equal(k.package, 'linux-image-amd64');
    assert.equal(k.lttngModules, 'debian');
    assert.equal(k.ktrace, 'repo');
  });

  test('paths are relative to the kernel YAML file and resolve to trees or tarballs', () => {
    const dir = sources();
    const tree = loadKernel(dir, 'package: linux-image-6.12.57+deb13-amd64\nlttngModules: ../lttng-modules-2.13.99\nktrace: ../ktrace-next\n');
    assert.deepEqual(tree.lttngModules, { kind: 'tree', path: join(dir, 'lttng-modules-2.13.99') });
    assert.deepEqual(tree.ktrace, { kind: 'tree', path: join(dir, 'ktrace-next') });
    const tarball = loadKernel(dir, `lttngModules: ${join(dir, 'lttng-modules-2.13.99.tar.xz')}\n`);
    assert.deepEqual(tarball.lttngModules, { kind: 'tarball', path: join(dir, 'lttng-modules-2.13.99.tar.xz') });
    assert.equal(tarball.ktrace, 'repo');
  });

  test('every bad field is reported at once, named', () => {
    const dir = sources();
    assert.deepEqual(problems(() => loadKernel(dir, 'lttngModules: ../nowhere\nktrace: ../lttng-modules-2.13.99.tar.xz\n')), [
      `lttngModules: no such file or directory: ${join(dir, 'nowhere')}`,
      `ktrace: ${join(dir, 'lttng-modules-2.13.99.tar.xz')} is not a directory`,
    ]);
    assert.deepEqual(problems(() => loadKernel(dir, 'lttngModules: ../ktrace-next\nktrace: ../lttng-modules-2.13.99\n')), [
      `lttngModules: ${join(dir, 'ktrace-next')} is not an lttng-modules (2.13 or later) source tree (no src/Kbuild)`,
      `ktrace: ${join(dir, 'lttng-modules-2.13.99')} is not a ktrace source tree (no Kbuild)`,
    ]);
    assert.deepEqual(problems(() => loadKernel(dir, 'lttngModules: ../ktrace-next/core.c\n')), [
      `lttngModules: ${join(dir, 'ktrace-next/core.c')} is not a directory or a .tar.* tarball`,
    ]);
  });

  test('the kernel file is named in the error, schema problems as path: message', () => {
    const dir = sources();
    const f = kernelYaml(dir, 'package: linux-headers-amd64\nlttngModules: ""\nflavour: rt\n');
    try {
      loadKernelConfig(f);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TracebenchError);
      assert.match(e.message, new RegExp(`^${f.replace(/[.+]/g, '\\$&')}: invalid configuration:`));
      assert.match(e.message, /package: a Debian kernel image package, e\.g\. linux-image-amd64/);
      assert.match(e.message, /lttngModules: String must contain at least 1 character/);
      assert.match(e.message, /\(root\): Unrecognized key\(s\) in object: 'flavour'/);
    }
  });

  test('an unknown kernel source names the two there are', () => {
    const dir = sources();
    const f = join(dir, 'kernels', 'mine.yaml');
    writeFileSync(f, 'name: mine\nsource: bzimage\nbzImage: ./bzImage\n');
    assert.deepEqual(problems(() => loadKernelConfig(f)), [
      'source: must be "debian-package" (a Debian kernel package) or "local" (a user-supplied bzImage + modules + headers; docs/versions.md)',
    ]);
  });

  test('the example kernel configs load', () => {
    const k = loadKernelConfig(join(CONFIG_ROOT, 'kernels/examples/ktrace-from-path.yaml'));
    assert.deepEqual(k.ktrace, { kind: 'tree', path: join(PROJECT_ROOT, 'ktrace') });
  });
});

/** A fake user-supplied kernel under `dir`: bzImage, /lib/modules/6.12.99-test and a headers tree. */
function localKernelFiles(dir: string): void {
  const bz = Buffer.alloc(0x400);
  bz.write('HdrS', 0x202, 'latin1');
  writeFileSync(join(dir, 'bzImage'), bz);
  mkdirSync(join(dir, 'modules/6.12.99-test/kernel/fs'), { recursive: true });
  writeFileSync(join(dir, 'modules/6.12.99-test/modules.dep'), 'kernel/fs/ext4.ko:\n');
  writeFileSync(join(dir, 'modules/6.12.99-test/kernel/fs/ext4.ko'), 'elf\n');
  for (const d of ['include/config', 'mm', 'scripts']) mkdirSync(join(dir, 'headers', d), { recursive: true });
  writeFileSync(join(dir, 'headers/Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\n');
  writeFileSync(join(dir, 'headers/.config'), 'CONFIG_FTRACE=y\n');
  writeFileSync(join(dir, 'headers/include/config/kernel.release'), '6.12.99-test\n');
  writeFileSync(join(dir, 'headers/mm/slab.h'), '/* slab */\n');
  writeFileSync(join(dir, 'headers/README.md'), 'copied into the image too\n');
  symlinkSync('../include', join(dir, 'headers/scripts/include'));
}

const LOCAL = 'name: mine\nsource: local\nbzImage: ../bzImage\nmodules: ../modules/6.12.99-test\nheaders: ../headers\n';

function localYaml(dir: string, body: string): string {
  const f = join(dir, 'kernels', 'mine.yaml');
  writeFileSync(f, body);
  return f;
}

describe('kernel config: a user-supplied kernel (source: local)', () => {
  test('paths are relative to the kernel YAML file; the release is the modules directory name', () => {
    const dir = sources();
    localKernelFiles(dir);
    const k = loadKernelConfig(localYaml(dir, LOCAL + 'ktrace: ../ktrace-next\n'));
    assert.ok(k.source === 'local');
    assert.equal(k.bzImage, join(dir, 'bzImage'));
    assert.equal(k.modules, join(dir, 'modules/6.12.99-test'));
    assert.equal(k.headers, join(dir, 'headers'));
    assert.equal(k.release, '6.12.99-test');
    assert.equal(k.lttngModules, 'debian');
    assert.deepEqual(k.ktrace, { kind: 'tree', path: join(dir, 'ktrace-next') });
  });

  test('each missing field is named', () => {
    const dir = sources();
    assert.deepEqual(problems(() => loadKernelConfig(localYaml(dir, 'name: mine\nsource: local\n'))), ['bzImage: Required', 'modules: Required', 'headers: Required']);
    assert.deepEqual(problems(() => loadKernelConfig(localYaml(dir, LOCAL + 'package: linux-image-amd64\n'))), ["(root): Unrecognized key(s) in object: 'package'"]);
  });

  test('paths that do not exist or are the wrong kind, all at once', () => {
    const dir = sources();
    assert.deepEqual(problems(() => loadKernelConfig(localYaml(dir, LOCAL))), [
      `bzImage: no such file or directory: ${join(dir, 'bzImage')}`,
      `modules: no such file or directory: ${join(dir, 'modules/6.12.99-test')}`,
      `headers: no such file or directory: ${join(dir, 'headers')}`,
    ]);
    localKernelFiles(dir);
    const f = localYaml(dir, 'name: mine\nsource: local\nbzImage: ../headers\nmodules: ../bzImage\nheaders: ../modules/6.12.99-test/modules.dep\n');
    assert.deepEqual(problems(() => loadKernelConfig(f)), [
      `bzImage: ${join(dir, 'headers')} is not a file`,
      `modules: ${join(dir, 'bzImage')} is not a directory`,
      `headers: ${join(dir, 'modules/6.12.99-test/modules.dep')} is not a directory`,
    ]);
  });

  test('contents that are not what the field needs', () => {
    const dir = sources();
    localKernelFiles(dir);
    writeFileSync(join(dir, 'bzImage'), 'not a kernel\n');
    mkdirSync(join(dir, 'modules/6.12.99-test/kernel'), { recursive: true });
    rmSync(join(dir, 'modules/6.12.99-test/modules.dep'));
    rmSync(join(dir, 'headers/.config'));
    rmSync(join(dir, 'headers/include'), { recursive: true });
    assert.deepEqual(problems(() => loadKernelConfig(localYaml(dir, LOCAL))), [
      `bzImage: ${join(dir, 'bzImage')} is not an x86 bzImage (no "HdrS" boot header at 0x202)`,
      `headers: ${join(dir, 'headers')} is not a kernel build or headers tree (no include, .config)`,
    ]);
    // modules: kernel/ alone is enough; neither it nor modules.dep is not
    rmSync(join(dir, 'modules/6.12.99-test/kernel'), { recursive: true });
    mkdirSync(join(dir, 'modules/lib-modules'));
    const f = localYaml(dir, LOCAL.replace('../modules/6.12.99-test', '../modules/lib-modules'));
    assert.ok(problems(() => loadKernelConfig(f)).includes(`modules: the base name of ${join(dir, 'modules/lib-modules')} must be the kernel release (/lib/modules/<release>), e.g. 6.12.57-custom`));
    assert.ok(problems(() => loadKernelConfig(localYaml(dir, LOCAL))).includes(`modules: ${join(dir, 'modules/6.12.99-test')} is not a /lib/modules/<release> directory (no modules.dep or kernel/)`));
  });

  test('the headers tree must be self-contained, of the same release, with mm/slab.h', () => {
    const dir = sources();
    localKernelFiles(dir);
    writeFileSync(join(dir, 'headers/Makefile'), 'include /usr/src/linux-headers-6.12.99-common/Makefile\n');
    writeFileSync(join(dir, 'headers/include/config/kernel.release'), '6.12.98-test\n');
    rmSync(join(dir, 'headers/mm/slab.h'));
    assert.deepEqual(problems(() => loadKernelConfig(localYaml(dir, LOCAL))), [
      `headers: ${join(dir, 'headers')}/Makefile includes /usr/src/linux-headers-6.12.99-common/Makefile: the tree must be self-contained (a split Debian headers tree must be merged, docs/versions.md)`,
      `headers: ${join(dir, 'headers')} is for kernel 6.12.98-test, but modules is 6.12.99-test`,
      `headers: ${join(dir, 'headers')} has no mm/slab.h (lttng-modules' kmem probe needs it; a build tree has it, a headers package does not: copy it in, docs/versions.md)`,
    ]);
  });

  test('the example local kernel config is commented paths, and examples/ is not scanned', () => {
    const text = readFileSync(join(CONFIG_ROOT, 'kernels/examples/local-kernel.yaml'), 'utf8');
    assert.match(text, /^source: local$/m);
    for (const f of ['bzImage', 'modules', 'headers']) assert.match(text, new RegExp(`^${f}: `, 'm'));
    assert.ok(!listConfigs('kernels').includes('local-kernel'));
  });
});

describe('suite: kernel entries as version axes', () => {
  const suiteBody = (kernels: string) => `name: s\nkernels: ${kernels}\nconfigs: [vanilla, lttng]\nworkloads:\n  - name: dbench\n`;

  test('a kernel entry may be a YAML path relative to the suite file', () => {
    const dir = sources();
    kernelYaml(dir, 'lttngModules: ../lttng-modules-2.13.99\n');
    writeFileSync(join(dir, 's.yaml'), suiteBody('[debian, kernels/k.yaml]'));
    const s = loadSuite(join(dir, 's.yaml'));
    assert.deepEqual(s.kernels.map((k) => k.name), ['debian', 'k']);
    assert.deepEqual(s.kernels[1].lttngModules, { kind: 'tree', path: join(dir, 'lttng-modules-2.13.99') });
  });

  test('missing kernel files and duplicate names are config errors', () => {
    const dir = sources();
    writeFileSync(join(dir, 's.yaml'), suiteBody('[kernels/none.yaml]'));
    assert.deepEqual(problems(() => loadSuite(join(dir, 's.yaml'))), [`kernels.0: no kernel config file ${join(dir, 'kernels/none.yaml')}`]);
    writeFileSync(join(dir, 'kernels/d.yaml'), 'name: debian\nsource: debian-package\n');
    writeFileSync(join(dir, 's.yaml'), suiteBody('[debian, kernels/d.yaml]'));
    assert.deepEqual(problems(() => loadSuite(join(dir, 's.yaml'))), ['kernels: two entries are named "debian" (the name inside the kernel config)']);
  });
});

describe('recipe per kernel entry', () => {
  const debian: KernelConfig = { name: 'debian', source: 'debian-package', package: 'linux-image-amd64', lttngModules: 'debian', ktrace: 'repo' };

  test('the default kernel entry is the default recipe, with the same key', () => {
    assert.deepEqual(recipeFor(debian), defaultRecipe);
    assert.equal(imageKey(recipeFor(debian)), imageKey(defaultRecipe));
  });

  test('a versioned kernel package brings its own headers', () => {
    const r = recipeFor({ ...debian, package: 'linux-image-6.12.57+deb13-amd64' });
    assert.ok(r.packages.includes('linux-image-6.12.57+deb13-amd64'));
    assert.ok(r.packages.includes('linux-headers-6.12.57+deb13-amd64'));
    assert.ok(!r.packages.includes('linux-image-amd64') && !r.packages.includes('linux-headers-amd64'));
    assert.deepEqual(r.steps, defaultRecipe.steps);
  });

  test('an lttng-modules tree or tarball and a ktrace tree become step inputs and env', () => {
    const dir = sources();
    const r = recipeFor({ ...debian, lttngModules: { kind: 'tarball', path: join(dir, 'lttng-modules-2.13.99.tar.xz') }, ktrace: { kind: 'tree', path: join(dir, 'ktrace-next') } });
    const step = (n: string) => r.steps.find((s) => s.name === n)!;
    assert.deepEqual(step('lttng-modules').inputs, [{ path: join(dir, 'lttng-modules-2.13.99.tar.xz'), as: 'lttng-modules/lttng-modules-2.13.99.tar.xz' }]);
    assert.deepEqual(step('lttng-modules').env, { LTTNG_MODULES_SRC: '/usr/src/tracebench/inputs/lttng-modules/lttng-modules-2.13.99.tar.xz' });
    assert.deepEqual(step('ktrace').inputs, [{ path: join(dir, 'ktrace-next'), as: 'ktrace/ktrace-next' }]);
    assert.deepEqual(step('ktrace').env, { KTRACE_SRC: '/usr/src/tracebench/inputs/ktrace/ktrace-next' });
    // the other steps are untouched
    assert.deepEqual(step('kernbench'), defaultRecipe.steps.find((s) => s.name === 'kernbench'));
    const tree = recipeFor({ ...debian, lttngModules: { kind: 'tree', path: join(dir, 'lttng-modules-2.13.99') } });
    assert.deepEqual(tree.steps.find((s) => s.name === 'lttng-modules')!.env, { LTTNG_MODULES_SRC: '/usr/src/tracebench/inputs/lttng-modules/lttng-modules-2.13.99' });
    assert.deepEqual(tree.steps.find((s) => s.name === 'ktrace'), defaultRecipe.steps.find((s) => s.name === 'ktrace'));
  });

  test('the customize script copies the inputs and passes the env to the step', () => {
    const dir = sources();
    const script = customizeScript(recipeFor({ ...debian, lttngModules: { kind: 'tree', path: join(dir, 'lttng-modules-2.13.99') }, ktrace: { kind: 'tree', path: join(dir, 'ktrace-next') } }));
    assert.ok(script.includes(`tar -C ${shellQuote(join(dir, 'lttng-modules-2.13.99'))} --exclude=./.git`), script);
    assert.ok(script.includes(`"$R"${shellQuote('/usr/src/tracebench/inputs/lttng-modules/lttng-modules-2.13.99')}`));
    assert.ok(script.includes(`TB_INFO=/usr/share/tracebench/lttng-modules.info LTTNG_MODULES_SRC=${shellQuote('/usr/src/tracebench/inputs/lttng-modules/lttng-modules-2.13.99')} sh -c`));
    assert.ok(script.includes(`TB_INFO=/usr/share/tracebench/ktrace.info KTRACE_SRC=${shellQuote('/usr/src/tracebench/inputs/ktrace/ktrace-next')} sh -c`));
    // inputs are copied before the step that builds them runs
    assert.ok(script.indexOf('inputs/ktrace/ktrace-next') < script.indexOf('KTRACE_SRC='));
    assert.ok(!customizeScript(defaultRecipe).includes('inputs'));
  });
});

describe('recipe and key of a user-supplied kernel', () => {
  const local = (dir: string) => loadKernelConfig(localYaml(dir, LOCAL));

  test('no Debian kernel packages; the kernel step with its inputs runs first, KVER explicit', () => {
    const dir = sources();
    localKernelFiles(dir);
    const r = recipeFor(local(dir));
    assert.ok(!r.packages.some((p) => p.startsWith('linux-image-') || p.startsWith('linux-headers-')));
    assert.deepEqual(r.packages, [...defaultRecipe.packages.filter((p) => p !== 'linux-image-amd64' && p !== 'linux-headers-amd64'), 'pahole']);
    for (const p of ['initramfs-tools', 'kmod', 'linux-source']) assert.ok(r.packages.includes(p), p);
    assert.equal(r.kernelRelease, '6.12.99-test');
    assert.deepEqual(r.steps.map((s) => s.name), ['kernel', ...defaultRecipe.steps.map((s) => s.name)]);
    const [step] = r.steps;
    assert.deepEqual(step.inputs, [
      { path: join(dir, 'bzImage'), as: 'kernel/bzImage', exact: true },
      { path: join(dir, 'modules/6.12.99-test'), as: 'kernel/modules', exact: true },
      { path: join(dir, 'headers'), as: 'kernel/headers', exact: true },
    ]);
    assert.deepEqual(step.env, {
      KERNEL_BZIMAGE: '/usr/src/tracebench/inputs/kernel/bzImage',
      KERNEL_MODULES: '/usr/src/tracebench/inputs/kernel/modules',
      KERNEL_HEADERS: '/usr/src/tracebench/inputs/kernel/headers',
    });
    const script = readFileSync(join(PROJECT_ROOT, step.dir, step.script), 'utf8');
    for (const cmd of ['depmod "$KVER"', 'update-initramfs -c -k "$KVER"', 'ln -s "$hdr" "$mods/build"', '/boot/config-$KVER', '/boot/vmlinuz-$KVER']) assert.ok(script.includes(cmd), cmd);
    const custom = customizeScript(r);
    assert.ok(custom.includes(`KVER=${shellQuote('6.12.99-test')}\n`));
    assert.ok(!custom.includes('ls "$R/lib/modules"'));
    assert.ok(custom.indexOf('inputs/kernel/headers') < custom.indexOf('KERNEL_HEADERS='));
    assert.ok(custom.indexOf('start kernel') < custom.indexOf('start lttng-modules') && custom.indexOf('start kernel') < custom.indexOf('start ktrace'));
  });

  test("lttng-modules runs through a wrapper that treats the headers as one tree, whose edit still applies", () => {
    const dir = sources();
    localKernelFiles(dir);
    const step = recipeFor(local(dir)).steps.find((s) => s.name === 'lttng-modules')!;
    const lttng = defaultRecipe.steps.find((s) => s.name === 'lttng-modules')!;
    assert.deepEqual({ ...step, script: lttng.script }, lttng);
    const wrapper = join(PROJECT_ROOT, step.dir, step.script);
    assert.equal(wrapper, join(PROJECT_ROOT, 'harness/image/local-kernel/lttng-modules.sh'));
    const expr = /^sed '([^']+)' "\$orig"/m.exec(readFileSync(wrapper, 'utf8'))![1];
    const edited = execFileSync('sed', [expr, join(PROJECT_ROOT, lttng.dir, lttng.script)], { encoding: 'utf8' });
    assert.match(edited, /^common=$/m);
  });

  test('the default recipe is unchanged: no kernelRelease, KVER from /lib/modules', () => {
    assert.ok(!('kernelRelease' in defaultRecipe));
    assert.ok(customizeScript(defaultRecipe).includes('KVER=$(ls "$R/lib/modules" | head -n 1)'));
    assert.deepEqual(defaultRecipe.packages.slice(0, 2), ['linux-image-amd64', 'linux-headers-amd64']);
  });

  test('the key changes with the bytes of the bzImage, modules and headers (any file, symlinks too), not their host location', () => {
    const dir = sources();
    localKernelFiles(dir);
    const key = () => imageKey(recipeFor(local(dir)));
    const before = key();
    assert.notEqual(before, imageKey(defaultRecipe));
    const elsewhere = tmp();
    cpSync(dir, elsewhere, { recursive: true, verbatimSymlinks: true });
    assert.equal(imageKey(recipeFor(local(elsewhere))), before);
    const bz = readFileSync(join(dir, 'bzImage'));
    bz[0x300] ^= 1;
    writeFileSync(join(dir, 'bzImage'), bz);
    const afterBz = key();
    assert.notEqual(afterBz, before);
    writeFileSync(join(dir, 'modules/6.12.99-test/kernel/fs/ext4.ko'), 'elf 2\n');
    const afterMod = key();
    assert.notEqual(afterMod, afterBz);
    writeFileSync(join(dir, 'headers/README.md'), 'a .md of a kernel tree is copied, so it counts\n');
    const afterMd = key();
    assert.notEqual(afterMd, afterMod);
    rmSync(join(dir, 'headers/scripts/include'));
    symlinkSync('../arch', join(dir, 'headers/scripts/include'));
    assert.notEqual(key(), afterMd);
  });
});

describe('image key of step inputs', () => {
  const debian: KernelConfig = { name: 'debian', source: 'debian-package', package: 'linux-image-amd64', lttngModules: 'debian', ktrace: 'repo' };
  const keyOf = (lttng: string, kind: 'tree' | 'tarball' = 'tree') => imageKey(recipeFor({ ...debian, lttngModules: { kind, path: lttng } }));

  test('changes with the content of a tree, not with a .md beside the sources or VCS metadata', () => {
    const dir = sources();
    const tree = join(dir, 'lttng-modules-2.13.99');
    const before = keyOf(tree);
    assert.notEqual(before, imageKey(defaultRecipe));
    writeFileSync(join(tree, 'README.md'), 'other notes\n');
    mkdirSync(join(tree, '.git'));
    writeFileSync(join(tree, '.git/HEAD'), 'ref: refs/heads/main\n');
    assert.equal(keyOf(tree), before);
    writeFileSync(join(tree, 'src/Kbuild'), 'obj-m += lttng-tracer.o lttng-probe-sched.o\n');
    assert.notEqual(keyOf(tree), before);
  });

  test('the host location does not matter, the content and base name do', () => {
    const dir = sources();
    const tree = join(dir, 'lttng-modules-2.13.99');
    const before = keyOf(tree);
    const elsewhere = join(tmp(), 'lttng-modules-2.13.99');
    cpSync(tree, elsewhere, { recursive: true });
    assert.equal(keyOf(elsewhere), before);
    renameSync(tree, join(dir, 'lttng-modules-head'));
    assert.notEqual(keyOf(join(dir, 'lttng-modules-head')), before);
  });

  test('changes with the bytes of a tarball', () => {
    const dir = sources();
    const tarball = join(dir, 'lttng-modules-2.13.99.tar.xz');
    const before = keyOf(tarball, 'tarball');
    writeFileSync(join(dir, 'NOTES.md'), 'beside the tarball\n');
    assert.equal(keyOf(tarball, 'tarball'), before);
    writeFileSync(tarball, 'other bytes\n');
    assert.notEqual(keyOf(tarball, 'tarball'), before);
  });

  test('a ktrace tree from elsewhere is its own image', () => {
    const dir = sources();
    const k = imageKey(recipeFor({ ...debian, ktrace: { kind: 'tree', path: join(dir, 'ktrace-next') } }));
    assert.notEqual(k, imageKey(defaultRecipe));
    writeFileSync(join(dir, 'ktrace-next/core.c'), 'changed\n');
    assert.notEqual(imageKey(recipeFor({ ...debian, ktrace: { kind: 'tree', path: join(dir, 'ktrace-next') } })), k);
  });
});

describe('image step pvh-vmlinux (the kernel QEMU enters through PVH)', () => {
  // the step's script with /boot pointed at a temporary directory
  const run = async (config: string, vmlinuz: Buffer) => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-pvh-'));
    writeFileSync(join(dir, 'config-K'), config);
    writeFileSync(join(dir, 'vmlinuz-K'), vmlinuz);
    const script = readFileSync(join(PROJECT_ROOT, 'harness/image/pvh-vmlinux/build-in-image.sh'), 'utf8').replaceAll('/boot/', `${dir}/`);
    writeFileSync(join(dir, 'step.sh'), script);
    const r = await execa('sh', [join(dir, 'step.sh')], { env: { KVER: 'K', TB_INFO: join(dir, 'info') }, reject: false });
    return { ...r, info: existsSync(join(dir, 'info')) ? readFileSync(join(dir, 'info'), 'utf8') : '', out: existsSync(join(dir, 'tb-vmlinux-pvh')) };
  };
  test('a kernel without CONFIG_PVH gets no vmlinux and says so', async () => {
    const r = await run('# CONFIG_PVH is not set\n', Buffer.from('MZ'));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.info, /^pvh=no/m);
    assert.equal(r.out, false);
  });
  test('a vmlinuz whose payload does not decompress to an ELF is an error naming the file', async () => {
    const payload = gzipSync(Buffer.from('not an ELF file at all'));
    const r = await run('CONFIG_PVH=y\n', Buffer.concat([Buffer.from('MZ header bytes'), payload, Buffer.from('trailer')]));
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /no zstd\/xz\/gzip\/lz4 payload in .*vmlinuz-K decompresses to an ELF vmlinux/);
    assert.equal(r.out, false);
  });
});
