// Versions as axes (docs/versions.md): a kernel entry names the kernel package and
// the lttng-modules and ktrace sources built into its image. Fast: no image is built.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadKernelConfig, loadSuite, type KernelConfig } from '../harness/config.js';
import { ExitCode, TracebenchError } from '../harness/errors.js';
import { customizeScript, imageKey } from '../harness/image/build.js';
import { defaultRecipe, recipeFor } from '../harness/image/recipe.js';
import { CONFIG_ROOT, PROJECT_ROOT } from '../harness/paths.js';

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

  test('a user-supplied kernel is rejected with a clear message (not supported yet)', () => {
    const dir = sources();
    const f = join(dir, 'kernels', 'mine.yaml');
    writeFileSync(f, 'name: mine\nsource: bzimage\nbzImage: ./bzImage\n');
    assert.deepEqual(problems(() => loadKernelConfig(f)), [
      'source: "debian-package" is the only kernel source supported; a user-supplied bzImage + modules + headers is not supported yet (docs/versions.md)',
    ]);
  });

  test('the example kernel configs load', () => {
    const k = loadKernelConfig(join(CONFIG_ROOT, 'kernels/examples/ktrace-from-path.yaml'));
    assert.deepEqual(k.ktrace, { kind: 'tree', path: join(PROJECT_ROOT, 'ktrace') });
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
    assert.ok(script.includes(`tar -C '${join(dir, 'lttng-modules-2.13.99')}' --exclude=./.git`), script);
    assert.ok(script.includes(`"$R"'/usr/src/tracebench/inputs/lttng-modules/lttng-modules-2.13.99'`));
    assert.match(script, /TB_INFO=\/usr\/share\/tracebench\/lttng-modules\.info LTTNG_MODULES_SRC='\/usr\/src\/tracebench\/inputs\/lttng-modules\/lttng-modules-2\.13\.99' sh -c/);
    assert.match(script, /TB_INFO=\/usr\/share\/tracebench\/ktrace\.info KTRACE_SRC='\/usr\/src\/tracebench\/inputs\/ktrace\/ktrace-next' sh -c/);
    // inputs are copied before the step that builds them runs
    assert.ok(script.indexOf("inputs/ktrace/ktrace-next'") < script.indexOf('KTRACE_SRC='));
    assert.ok(!customizeScript(defaultRecipe).includes('inputs'));
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
