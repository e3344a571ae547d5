// The fresh-machine step: which Debian packages bench and the tests install,
// when they may, and the exact command when they may not. The host is injected:
// no real apt-get runs here.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BENCH_PACKAGES, BROWSER_PACKAGES, LAVA_DB_PACKAGES, LAVA_TEST_PACKAGES, START_POSTGRES, ensurePackages, methodologyChecks, pinCpusNeeded, prepareHost, requireChecks, type Check, type HostDeps, type PackageNeed } from '../harness/doctor.js';
import { TracebenchError } from '../harness/errors.js';
import { parseHostFacts } from '../harness/machines/host-facts.js';
import { rejection } from './rejection.js';

interface Fake extends HostDeps {
  calls: string[];
  said: string[];
}

/** A host where `missing` packages are absent until apt-get installs them (when `aptWorks`). */
function fakeHost(o: { missing: string[]; root?: boolean; apt?: boolean; aptWorks?: boolean; failStep?: 'update' | 'install'; checks?: Check[] }): Fake {
  const absent = new Set(o.missing);
  const calls: string[] = [];
  const said: string[] = [];
  return {
    calls,
    said,
    present: (n: PackageNeed) => !absent.has(n.package),
    run: async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      if (o.failStep && args[0] === o.failStep) return 100;
      if (args[0] === 'install' && (o.aptWorks ?? true)) for (const p of args.slice(3)) absent.delete(p);
      return 0;
    },
    isRoot: () => o.root ?? true,
    hasApt: () => o.apt ?? true,
    say: (line) => said.push(line),
    checks: () => o.checks ?? [{ name: 'root', ok: true, detail: 'running as root' }],
  };
}


describe('ensurePackages', () => {
  it('does nothing when every package is there', async () => {
    const h = fakeHost({ missing: [] });
    assert.deepEqual(await ensurePackages(BENCH_PACKAGES, { install: true, purpose: 'bench' }, h), []);
    assert.deepEqual(h.calls, []);
    assert.deepEqual(h.said, []);
  });

  it('as root: apt-get update, then install only the missing ones, saying what and why', async () => {
    const h = fakeHost({ missing: ['mmdebstrap', 'debian-archive-keyring'] });
    const installed = await ensurePackages(BENCH_PACKAGES, { install: true, purpose: 'tracebench bench' }, h);
    assert.deepEqual(installed, ['mmdebstrap', 'debian-archive-keyring']);
    assert.deepEqual(h.calls, ['apt-get update -q', 'apt-get install -y -q mmdebstrap debian-archive-keyring']);
    assert.deepEqual(h.said, [
      "installing Debian packages that tracebench bench needs (pass --no-install to refuse):\n  mmdebstrap: builds the guest image\n  debian-archive-keyring: verifies the guest's packages",
      'running: apt-get update -q',
      'running: apt-get install -y -q mmdebstrap debian-archive-keyring',
    ]);
  });

  it('--no-install refuses with exit 3 and the exact command, and runs nothing', async () => {
    const h = fakeHost({ missing: ['qemu-system-x86', 'e2fsprogs'] });
    const e = await rejection(ensurePackages(BENCH_PACKAGES, { install: false, purpose: 'tracebench bench' }, h));
    assert.equal(e.exitCode, 3);
    assert.equal(e.message, 'tracebench bench needs these Debian packages, not installed (--no-install):\n  qemu-system-x86: boots the guests\n  e2fsprogs: makes the root and scratch filesystems');
    assert.equal(e.hint, 'install them with: apt-get update && apt-get install -y qemu-system-x86 e2fsprogs');
    assert.deepEqual(h.calls, []);
  });

  it('not root: exit 3 with the sudo command, and runs nothing', async () => {
    const h = fakeHost({ missing: ['chromium', 'fonts-dejavu-core'], root: false });
    const e = await rejection(ensurePackages([...BENCH_PACKAGES, ...BROWSER_PACKAGES], { install: true, purpose: 'the tests' }, h));
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^the tests needs these Debian packages, and installing them needs root:\n {2}chromium: /);
    assert.equal(e.hint, 'run: sudo apt-get update && sudo apt-get install -y chromium fonts-dejavu-core');
    assert.deepEqual(h.calls, []);
  });

  it('no apt-get: exit 3 naming the Debian packages', async () => {
    const h = fakeHost({ missing: ['mmdebstrap'], apt: false });
    const e = await rejection(ensurePackages(BENCH_PACKAGES, { install: true, purpose: 'tracebench bench' }, h));
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /this host has no apt-get:\n {2}mmdebstrap: builds the guest image$/);
    assert.deepEqual(h.calls, []);
  });

  it('a failed apt-get update stops before the install, exit 3', async () => {
    const h = fakeHost({ missing: ['mmdebstrap'], failStep: 'update' });
    const e = await rejection(ensurePackages(BENCH_PACKAGES, { install: true, purpose: 'bench' }, h));
    assert.equal(e.exitCode, 3);
    assert.equal(e.message, 'apt-get update -q failed (exit 100)');
    assert.deepEqual(h.calls, ['apt-get update -q']);
  });

  it('a package that apt-get "installed" but is still not there is an error, not a pass', async () => {
    const h = fakeHost({ missing: ['qemu-system-x86'], aptWorks: false });
    const e = await rejection(ensurePackages(BENCH_PACKAGES, { install: true, purpose: 'bench' }, h));
    assert.equal(e.exitCode, 3);
    assert.equal(e.message, 'installed qemu-system-x86, yet still missing: qemu-system-x86_64');
  });
});

describe('prepareHost', () => {
  it('bench: the bench packages only; the tests: also chromium and fonts', async () => {
    const all = [...BENCH_PACKAGES, ...BROWSER_PACKAGES].map((n) => n.package);
    const bench = fakeHost({ missing: all });
    assert.deepEqual(await prepareHost({}, bench), BENCH_PACKAGES.map((n) => n.package));
    assert.match(bench.said[0]!, /^installing Debian packages that tracebench bench needs/);
    const tests = fakeHost({ missing: all });
    assert.deepEqual(await prepareHost({ browser: true }, tests), all);
    assert.equal(tests.calls[1], `apt-get install -y -q ${all.join(' ')}`);
  });

  it('the tests: LAVA in a second step, after PostgreSQL is installed and started, without Recommends and without a second apt-get update', async () => {
    const lava = LAVA_TEST_PACKAGES.map((n) => n.package);
    const h = fakeHost({ missing: ['chromium', ...LAVA_DB_PACKAGES.map((n) => n.package), ...lava] });
    assert.deepEqual(await prepareHost({ browser: true }, h), ['chromium', 'postgresql', ...lava]);
    assert.deepEqual(h.calls, [
      'apt-get update -q',
      'apt-get install -y -q chromium postgresql',
      `sh -c ${START_POSTGRES}`,
      `apt-get install -y -q --no-install-recommends ${lava.join(' ')}`,
    ]);
    assert.ok(h.said.includes("starting PostgreSQL: lava-server's postinst creates its database in it"));
  });

  it('the tests: only LAVA missing: PostgreSQL started, apt-get update, LAVA; bench never installs LAVA', async () => {
    const lava = LAVA_TEST_PACKAGES.map((n) => n.package);
    const h = fakeHost({ missing: ['lava-server'] });
    assert.deepEqual(await prepareHost({ browser: true }, h), ['lava-server']);
    assert.deepEqual(h.calls, [`sh -c ${START_POSTGRES}`, 'apt-get update -q', 'apt-get install -y -q --no-install-recommends lava-server']);
    const bench = fakeHost({ missing: lava });
    assert.deepEqual(await prepareHost({}, bench), []);
    assert.deepEqual(bench.calls, []);
  });

  it('the tests, --no-install, LAVA missing: exit 3 with the commands (PostgreSQL first), and runs nothing', async () => {
    const h = fakeHost({ missing: ['lava-common', 'lava-dispatcher'] });
    const e = await rejection(prepareHost({ browser: true, install: false }, h));
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^the tests needs these Debian packages, not installed \(--no-install\):\n {2}lava-common: /);
    assert.equal(e.hint, 'install them with: pg_ctlcluster 15 main start && apt-get update && apt-get install -y --no-install-recommends lava-common lava-dispatcher');
    assert.deepEqual(h.calls, []);
  });

  it('after the packages, the other checks (root, mirror, disk) stop with their fix, exit 3', async () => {
    const h = fakeHost({ missing: [], checks: [{ name: 'cache space', ok: false, detail: '3 GiB free in /c (need 12)', fix: 'free space or set XDG_CACHE_HOME to a larger disk' }] });
    const e = await rejection(prepareHost({ install: false }, h));
    assert.equal(e.exitCode, 3);
    assert.equal(e.message, 'host prerequisites missing:\n  cache space: 3 GiB free in /c (need 12)');
    assert.equal(e.hint, 'free space or set XDG_CACHE_HOME to a larger disk');
  });
});

// The methodology lines doctor prints, from host-facts.sh outputs of an Intel and
// an AMD bare-metal box and of this project's VM (test/fixtures/host-facts/).
describe('methodologyChecks', () => {
  const facts = (name: string) => parseHostFacts(readFileSync(join(import.meta.dirname, 'fixtures/host-facts', name), 'utf8'));
  const brief = (cs: Check[]) => cs.map((c) => `${c.warning ? 'warn' : c.ok ? 'ok' : 'FAIL'} ${c.name}: ${c.detail}`);

  it('Intel bare metal with KVM: governor, turbo and irqbalance warn, each with why; 16 CPUs pin 4 vCPUs', () => {
    const cs = methodologyChecks(facts('intel-i9-9900k.txt'), { kvm: true, vcpus: 4 });
    assert.deepEqual(brief(cs), [
      'ok host cpu: Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz, 16 CPUs online, microcode 0xf8',
      'ok host machine: bare metal (no hypervisor CPU flag)',
      'warn cpu governor: intel_pstate (active), governor powersave on all 16 CPUs, EPP balance_performance',
      'warn turbo: on (intel_pstate/no_turbo=0)',
      'ok smt: on',
      'warn irqbalance: running',
      "ok vcpu pinning: 16 host CPUs online (logical CPUs: SMT siblings share a core): enough to pin the suite's 4 vCPUs one per CPU and keep one for QEMU's I/O thread and the harness",
    ]);
    assert.match(cs[2].warning!, /a tracer's extra work can raise the clock/);
    assert.match(cs[3].warning!, /reproducible benchmarks/);
    assert.match(cs[5].warning!, /systemctl stop irqbalance/);
    // warnings never stop bench: the host works
    assert.doesNotThrow(() => requireChecks(cs));
  });

  it('AMD bare metal: boost and the mixed governors warn; no irqbalance; without KVM no pinning line', () => {
    const cs = methodologyChecks(facts('amd-epyc-7313.txt'), { kvm: false, vcpus: 4 });
    assert.deepEqual(brief(cs).slice(2), [
      'warn cpu governor: acpi-cpufreq, governor mixed: schedutil, performance across 16 CPUs',
      'warn turbo: on (cpufreq/boost=1)',
      'ok smt: off',
      'ok irqbalance: not running',
    ]);
  });

  it("this project's VM: no warnings about knobs it does not have; 2 CPUs cannot pin 2 vCPUs + 1", () => {
    const cs = methodologyChecks(facts('vm-firecracker.txt'), { kvm: true, vcpus: 2 });
    assert.deepEqual(brief(cs), [
      'ok host cpu: Intel(R) Xeon(R) Processor, 2 CPUs online, microcode 0x1',
      'ok host machine: virtual (hypervisor CPU flag)',
      'ok cpu governor: no cpufreq in this VM (the hypervisor host sets the clock)',
      'ok turbo: unknown',
      'ok smt: notsupported',
      'ok irqbalance: not running',
      "warn vcpu pinning: 2 host CPUs online, the suite's 2 vCPUs + 1 need 3",
    ]);
    assert.match(cs[6].warning!, /give the suite machine\.cpus: 1 or less$/);
  });

  it('a vCPU per host CPU plus one for QEMU and the harness', () => {
    assert.equal(pinCpusNeeded(4), 5);
  });
});
