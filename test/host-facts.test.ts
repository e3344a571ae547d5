// host-facts.sh and its parser: the script run on fake /proc and /sys trees of
// an Intel and an AMD bare-metal box (under dash, and under busybox sh with only
// busybox tools on PATH, as on a minimal lab box) must print the committed
// fixtures; the parser turns those and a capture of this project's VM into facts.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { describeHostFacts, HOST_FACTS_SCRIPT, localHostFacts, methodologyFindings, methodologyWarnings, parseCpuList, parseHostFacts, type HostFacts } from '../harness/machines/host-facts.js';
import { amdTree, intelTree, type Tree } from './fixtures/host-facts/trees.js';

const FIX = join(import.meta.dirname, 'fixtures/host-facts');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'tb-host-facts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let trees = 0;
function writeTree(t: Tree): string {
  const root = join(tmp, `root${trees++}`);
  mkdirSync(root);
  for (const [p, content] of Object.entries(t)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  return root;
}

async function runScript(root: string, shell: string[] = ['sh'], env?: Record<string, string>): Promise<string> {
  const r = await execa(shell[0], [...shell.slice(1), '-c', HOST_FACTS_SCRIPT, 'sh', root], { env, extendEnv: !env, stdin: 'ignore' });
  assert.equal(r.stderr, '', 'the script prints nothing on stderr, even for missing files');
  return r.stdout + '\n';
}

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/** A PATH holding only busybox's applets: the script must not need anything else. */
async function busyboxPath(): Promise<string> {
  const dir = join(tmp, 'busybox-bin');
  mkdirSync(dir);
  const { stdout } = await execa(BUSYBOX!, ['--list']);
  for (const applet of stdout.split('\n').filter(Boolean)) symlinkSync(BUSYBOX!, join(dir, applet));
  return dir;
}

const INTEL: HostFacts = {
  cpuModel: 'Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz',
  microcode: '0xf8',
  cores: 16,
  onlineCpus: Array.from({ length: 16 }, (_, i) => i),
  scalingDriver: 'intel_pstate',
  governor: 'powersave',
  governors: Array.from({ length: 16 }, (_, cpu) => ({ cpu, governor: 'powersave' })),
  governorsUniform: true,
  availableGovernors: ['performance', 'powersave'],
  epp: 'balance_performance',
  pstateStatus: 'active',
  turbo: 'on',
  knobs: { noTurbo: '0', boost: undefined },
  smt: 'on',
  kernel: '6.1.0-18-amd64',
  cmdline: 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=5e3c9c0e-3d1c-4b0e-9d4c-6c1f2f1a7b21 ro quiet',
  memoryMiB: 32019,
  irqbalance: true,
  thp: 'madvise',
  hugepages: { total: 0, free: 0, sizeKiB: 2048 },
  virtualized: undefined,
  mitigations: { total: 13, affected: 9, vulnerable: ['mmio_stale_data'], off: false },
};

describe('host-facts.sh', () => {
  for (const [name, tree] of [['intel-i9-9900k', intelTree], ['amd-epyc-7313', amdTree]] as const) {
    it(`on the ${name} tree prints the fixture`, async () => {
      assert.equal(await runScript(writeTree(tree())), fixture(`${name}.txt`));
    });
  }

  it('busybox sh with only busybox tools prints the same', { skip: BUSYBOX ? false : 'no busybox on this host' }, async () => {
    const path = await busyboxPath();
    for (const [name, tree] of [['intel-i9-9900k', intelTree], ['amd-epyc-7313', amdTree]] as const) {
      assert.equal(await runScript(writeTree(tree()), [BUSYBOX!, 'sh'], { PATH: path }), fixture(`${name}.txt`), name);
    }
  });

  it('a root with nothing in it: no output, no error, exit 0', async () => {
    assert.equal(await runScript(join(tmp, 'nothing-here')), '\n');
    const f = parseHostFacts('');
    assert.deepEqual(
      { cpuModel: f.cpuModel, cores: f.cores, turbo: f.turbo, smt: f.smt, kernel: f.kernel, irqbalance: f.irqbalance, governor: f.governor, virtualized: f.virtualized },
      { cpuModel: 'unknown', cores: undefined, turbo: 'unknown', smt: 'unknown', kernel: 'unknown', irqbalance: undefined, governor: undefined, virtualized: undefined },
    );
  });

  it('sysfs files without a trailing newline and a vanished process still read', async () => {
    const root = writeTree({
      'proc/cpuinfo': 'processor\t: 0\nmodel name\t: Some CPU',
      'proc/42/comm': 'irqbalance',
      'sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'performance',
      'sys/devices/system/cpu/intel_pstate/no_turbo': '1',
    });
    mkdirSync(join(root, 'proc/43'));
    assert.equal(await runScript(root), 'cpu_model=Some CPU\nprocessors=1\ngovernor=performance\ngovernors=0:performance\nno_turbo=1\nirqbalance=yes\n');
  });

  it('localHostFacts reads this machine', async () => {
    const f = await localHostFacts();
    assert.equal(f.kernel, release());
    assert.ok((f.cores ?? 0) >= 1);
    assert.notEqual(f.cpuModel, 'unknown');
    assert.equal(typeof f.irqbalance, 'boolean');
  });
});

describe('parseHostFacts', () => {
  it('the Intel box: every field', () => {
    assert.deepEqual(parseHostFacts(fixture('intel-i9-9900k.txt')), INTEL);
  });

  it('the AMD box: mixed governors, boost, SMT off, hugepages', () => {
    const f = parseHostFacts(fixture('amd-epyc-7313.txt'));
    assert.equal(f.scalingDriver, 'acpi-cpufreq');
    assert.equal(f.governor, 'schedutil');
    assert.equal(f.governorsUniform, false);
    assert.deepEqual(f.governors?.[3], { cpu: 3, governor: 'performance' });
    assert.equal(f.turbo, 'on');
    assert.deepEqual(f.knobs, { noTurbo: undefined, boost: '1' });
    assert.equal(f.smt, 'off');
    assert.equal(f.irqbalance, false);
    assert.equal(f.thp, 'always');
    assert.deepEqual(f.hugepages, { total: 512, free: 480, sizeKiB: 2048 });
    assert.deepEqual(f.mitigations, { total: 13, affected: 4, vulnerable: [], off: false });
    assert.equal(f.virtualized, undefined);
  });

  it("this project's VM: no cpufreq, turbo unknown, virtualized", () => {
    const f = parseHostFacts(fixture('vm-firecracker.txt'));
    assert.equal(f.cpuModel, 'Intel(R) Xeon(R) Processor');
    assert.equal(f.cores, 2);
    assert.equal(f.governor, undefined);
    assert.equal(f.governors, undefined);
    assert.equal(f.turbo, 'unknown');
    assert.equal(f.smt, 'notsupported');
    assert.equal(f.virtualized, 'hypervisor CPU flag');
    assert.deepEqual(f.mitigations, { total: 19, affected: 5, vulnerable: ['retbleed', 'spec_store_bypass'], off: false });
  });

  it('ignores unknown keys, comments and CRLF; the first value of a key wins', () => {
    const f = parseHostFacts('# note\r\nfuture_key=1\r\nkernel=6.12.0\r\nkernel=other\r\nnot a line\r\ncmdline=a=b c\r\nhypervisor_type=xen\r\n');
    assert.equal(f.kernel, '6.12.0');
    assert.equal(f.cmdline, 'a=b c');
    assert.equal(f.virtualized, 'xen');
  });

  it('mitigations=off on the cmdline is recorded', () => {
    assert.equal(parseHostFacts('cmdline=ro mitigations=off quiet\nvulnerabilities_total=3\nvulnerabilities_affected=3\nvulnerable=a,b,c\n').mitigations?.off, true);
  });

  it('parseCpuList: ranges and singles; malformed is undefined', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.deepEqual(parseCpuList('0'), [0]);
    assert.equal(parseCpuList('0-3,x'), undefined);
  });
});

describe('describeHostFacts', () => {
  it('the Intel box, one line per topic', () => {
    assert.deepEqual(describeHostFacts(INTEL), [
      'cpu: Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz, 16 CPUs online, microcode 0xf8',
      'machine: bare metal (no hypervisor CPU flag)',
      'frequency: intel_pstate (active), governor powersave on all 16 CPUs, EPP balance_performance',
      'turbo: on (intel_pstate/no_turbo=0)',
      'SMT: on',
      'irqbalance: running',
      'memory: 32019 MiB; THP madvise; hugepages 0 free of 0 × 2048 KiB',
      'kernel: 6.1.0-18-amd64',
      'CPU vulnerabilities: affected by 9 of 13, unmitigated: mmio_stale_data',
      'cmdline: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=5e3c9c0e-3d1c-4b0e-9d4c-6c1f2f1a7b21 ro quiet',
    ]);
  });

  it('mixed governors and a VM without cpufreq', () => {
    assert.equal(describeHostFacts(parseHostFacts(fixture('amd-epyc-7313.txt')))[2], 'frequency: acpi-cpufreq, governor mixed: schedutil, performance across 16 CPUs');
    assert.equal(describeHostFacts(parseHostFacts(fixture('vm-firecracker.txt')))[2], 'frequency: no cpufreq in this VM (the hypervisor host sets the clock)');
  });
});

describe('methodologyWarnings', () => {
  it('the Intel box: governor, turbo and irqbalance, each saying why', () => {
    const w = methodologyFindings(INTEL);
    assert.deepEqual(w.map((x) => x.topic), ['governor', 'turbo', 'irqbalance']);
    assert.match(w[0].text, /^the CPU frequency governor is powersave, not performance, on 16 CPUs: the clock then follows the load/);
    assert.match(w[1].text, /^turbo\/boost is on: the clock then depends on temperature/);
    assert.match(w[2].text, /^irqbalance is running: it moves interrupts between CPUs/);
  });

  it('with tune, what tuning sets is not warned about; irqbalance still is', () => {
    assert.deepEqual(methodologyFindings(INTEL, { tune: true }).map((x) => x.topic), ['irqbalance']);
  });

  it('the AMD box: the 15 CPUs not on performance, and boost', () => {
    const w = methodologyWarnings(parseHostFacts(fixture('amd-epyc-7313.txt')));
    assert.equal(w.length, 2);
    assert.match(w[0], /governor is schedutil, not performance, on 15 CPUs/);
    assert.match(w[1], /^turbo\/boost is on/);
  });

  it('a VM: nothing (its knobs do not drive the physical CPU)', () => {
    assert.deepEqual(methodologyWarnings(parseHostFacts(fixture('vm-firecracker.txt'))), []);
    assert.deepEqual(methodologyWarnings({ ...INTEL, virtualized: 'KVM' }), []);
  });

  it('a tuned bare-metal host: nothing', () => {
    const tuned: HostFacts = { ...INTEL, governor: 'performance', governors: INTEL.governors!.map((g) => ({ ...g, governor: 'performance' })), turbo: 'off', knobs: { noTurbo: '1' }, irqbalance: false };
    assert.deepEqual(methodologyWarnings(tuned), []);
  });
});
