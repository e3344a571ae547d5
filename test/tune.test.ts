// Host tuning plans from real-looking facts: set what is off, restore exactly
// what was changed, and nothing where a knob is absent.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseHostFacts } from '../harness/machines/host-facts.js';
import { governorPlan, tunePlan, turboPlan } from '../harness/machines/tune.js';
import { amdTree, type Tree } from './fixtures/host-facts/trees.js';

const facts = (name: string) => parseHostFacts(readFileSync(join(import.meta.dirname, 'fixtures/host-facts', name), 'utf8'));
const gov = (cpu: number, g: string) => `echo ${g} > /sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`;

describe('tunePlan', () => {
  it('Intel (intel_pstate, powersave, no_turbo=0): every CPU to performance, then turbo off; restored in reverse', () => {
    const p = tunePlan(facts('intel-i9-9900k.txt'));
    const cpus = Array.from({ length: 16 }, (_, i) => i);
    assert.deepEqual(p.apply, [...cpus.map((c) => gov(c, 'performance')), 'echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo']);
    assert.deepEqual(p.restore, ['echo 0 > /sys/devices/system/cpu/intel_pstate/no_turbo', ...cpus.reverse().map((c) => gov(c, 'powersave'))]);
  });

  it('AMD (acpi-cpufreq, boost=1, cpu3 already on performance): cpu3 is neither set nor restored', () => {
    const p = tunePlan(facts('amd-epyc-7313.txt'));
    const others = Array.from({ length: 16 }, (_, i) => i).filter((c) => c !== 3);
    assert.deepEqual(p.apply, [...others.map((c) => gov(c, 'performance')), 'echo 0 > /sys/devices/system/cpu/cpufreq/boost']);
    assert.deepEqual(p.restore, ['echo 1 > /sys/devices/system/cpu/cpufreq/boost', ...others.reverse().map((c) => gov(c, 'schedutil'))]);
  });

  it('a VM without cpufreq: nothing to apply or restore', () => {
    assert.deepEqual(tunePlan(facts('vm-firecracker.txt')), { apply: [], restore: [] });
  });

  it('an already tuned host: nothing', () => {
    assert.deepEqual(tunePlan(parseHostFacts('governor=performance\ngovernors=0:performance,1:performance\nno_turbo=1\nboost=0\n')), { apply: [], restore: [] });
  });

  it('both turbo knobs on: both switched, both restored', () => {
    assert.deepEqual(turboPlan(parseHostFacts('no_turbo=0\nboost=1\n')), {
      apply: ['echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo', 'echo 0 > /sys/devices/system/cpu/cpufreq/boost'],
      restore: ['echo 0 > /sys/devices/system/cpu/intel_pstate/no_turbo', 'echo 1 > /sys/devices/system/cpu/cpufreq/boost'],
    });
  });

  it('no performance governor available: the governors are left alone', () => {
    assert.deepEqual(governorPlan(parseHostFacts('governors=0:ondemand\navailable_governors=ondemand powersave\n')), { apply: [], restore: [] });
  });

  it('a governor value read from the host is shell-quoted in the restore line', () => {
    assert.deepEqual(governorPlan(parseHostFacts("governors=0:odd$(x) 'name\n")).restore, [`echo 'odd$(x) '\\''name' > /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor`]);
  });

  it('never touches isolcpus or nohz_full', () => {
    const p = tunePlan(parseHostFacts(`cmdline=isolcpus=2-3 nohz_full=2-3\n${readFileSync(join(import.meta.dirname, 'fixtures/host-facts/intel-i9-9900k.txt'), 'utf8')}`));
    assert.ok([...p.apply, ...p.restore].every((l) => !/isolcpus|nohz_full|cmdline/.test(l)));
  });
});

describe('apply, then restore, on a fake sysfs tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'tb-tune-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const knobs = (t: Tree) => Object.fromEntries(Object.keys(t).filter((p) => /scaling_governor$|\/boost$/.test(p)).map((p) => [p, readFileSync(join(root, p), 'utf8')]));
  const run = (lines: string[]) => execa('sh', ['-ec', lines.map((l) => l.replaceAll('/sys/', `${root}/sys/`)).join('\n')]);

  it('the AMD box ends exactly as it began', async () => {
    const tree = amdTree();
    for (const [p, c] of Object.entries(tree)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), c);
    }
    const before = knobs(tree);
    const plan = tunePlan(facts('amd-epyc-7313.txt'));
    await run(plan.apply);
    const tuned = knobs(tree);
    assert.ok(Object.entries(tuned).every(([p, v]) => (p.endsWith('boost') ? v === '0\n' : v === 'performance\n')));
    await run(plan.restore);
    assert.deepEqual(knobs(tree), before);
  });
});
