// Workload parsers against captured output, plus params validation and guest commands.
// Fixtures: workloads/<name>/fixtures/NN.out (untouched output) next to NN.json, either
// expected metrics (exact values for the keys listed) or {"error": "<substring>"}; an
// error that names "line N" must come from a ParseError whose `line` is N.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ParseError } from '../harness/errors.js';
import type { GuestContext, Workload } from '../harness/types.js';
import { makeJobs } from '../workloads/kernbench/index.js';
import { workloads } from '../workloads/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'workloads');
const registry = workloads as Record<string, Workload>;
const ctx: GuestContext = { cpus: 2, scratchDir: '/scratch', scratchKind: 'ext4', traceDir: '/tb-trace' };

const workloadDirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'fixtures')))
  .map((d) => d.name);

describe('parser fixtures', () => {
  it('every registered workload has fixtures, including a failure', () => {
    for (const name of Object.keys(registry)) {
      assert.ok(workloadDirs.includes(name), `${name} has no fixtures directory`);
      const jsons = readdirSync(join(root, name, 'fixtures')).filter((f) => f.endsWith('.json'));
      assert.ok(
        jsons.some((f) => 'error' in JSON.parse(readFileSync(join(root, name, 'fixtures', f), 'utf8'))),
        `${name} has no failure fixture`,
      );
    }
  });

  for (const dir of workloadDirs) {
    const wl = registry[dir];
    const fx = join(root, dir, 'fixtures');
    describe(dir, () => {
      it('is registered under its directory name', () => assert.ok(wl, `no workload "${dir}" in workloads/index.ts`));
      if (!wl) return;
      for (const out of readdirSync(fx).filter((f) => f.endsWith('.out')).sort()) {
        const expected = JSON.parse(readFileSync(join(fx, out.replace(/\.out$/, '.json')), 'utf8')) as Record<string, unknown>;
        const raw = readFileSync(join(fx, out), 'latin1');
        it(out, () => {
          if (typeof expected.error === 'string') {
            const msg = expected.error;
            assert.throws(
              () => wl.parse(raw),
              (e: unknown) => {
                assert.ok(e instanceof ParseError, `expected ParseError, got ${String(e)}`);
                assert.ok(e.message.includes(msg), `"${e.message}" does not contain "${msg}"`);
                const line = /line (\d+)/.exec(msg);
                if (line) assert.equal(e.line, Number(line[1]));
                return true;
              },
            );
            return;
          }
          const metrics = wl.parse(raw);
          const names = metrics.map((m) => m.name);
          assert.equal(new Set(names).size, names.length, `duplicate metric names: ${names}`);
          assert.ok(names.includes(wl.primaryMetric), `primary metric ${wl.primaryMetric} missing`);
          for (const m of metrics) {
            assert.ok(Number.isFinite(m.value), `${m.name} is not finite`);
            const declared = wl.metrics[m.name];
            if (declared) assert.deepEqual({ unit: m.unit, better: m.better }, declared, `${m.name} differs from its declaration`);
          }
          const got = Object.fromEntries(metrics.map((m) => [m.name, m.value]));
          for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, `${k}`);
        });
      }
    });
  }
});

describe('params', () => {
  const issuePaths = (wl: Workload, input: unknown) => {
    const r = wl.params.safeParse(input);
    assert.equal(r.success, false, `accepted ${JSON.stringify(input)}`);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };

  it('fills defaults', () => {
    assert.deepEqual(registry.dbench!.params.parse({}), { clients: 2, seconds: 5, loadfile: '/usr/share/dbench/client.txt' });
    assert.deepEqual(registry['syscall-loop']!.params.parse({}), { calls: 200000, cpus: 'all' });
    const kb = registry.kernbench!.params.parse({});
    assert.equal(kb.config, 'tinyconfig');
    assert.equal(kb.jobs, 'optimal');
    assert.equal(kb.warmupBuild, true);
    assert.ok(kb.targets.length > 0);
  });

  it('names the bad field', () => {
    assert.deepEqual(issuePaths(registry.dbench!, { clients: 0 }), ['clients']);
    assert.deepEqual(issuePaths(registry.tbench!, { seconds: 1.5 }), ['seconds']);
    assert.deepEqual(issuePaths(registry.kernbench!, { config: 'allyesconfig' }), ['config']);
    assert.deepEqual(issuePaths(registry.kernbench!, { jobs: 0 }), ['jobs']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: ['kernel/fork.o', 'kernel/../../etc/x.o'] }), ['targets.1']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: ['fs/namei.o; reboot'] }), ['targets.0']);
    assert.deepEqual(issuePaths(registry.kernbench!, { targets: [] }), ['targets']);
    assert.deepEqual(issuePaths(registry['syscall-loop']!, { cpus: 0 }), ['cpus']);
  });

  it('rejects unknown keys', () => {
    const r = registry.dbench!.params.safeParse({ client: 4 });
    assert.equal(r.success, false);
    assert.match(r.success ? '' : r.error.issues[0]!.message, /client/);
  });
});

describe('guest commands', () => {
  it('dbench runs on the scratch disk', () => {
    const lines = registry.dbench!.run(registry.dbench!.params.parse({ clients: 3, seconds: 7 }), ctx);
    assert.deepEqual(lines[0], 'mkdir -p /scratch/dbench');
    assert.match(lines[1]!, /\bdbench -t 7 -c \/usr\/share\/dbench\/client.txt -D \/scratch\/dbench 3$/);
    assert.ok(lines.every((l) => !/\|\s*(grep|awk|sed)/.test(l)), 'no parsing in the guest');
  });

  it('tbench starts, waits for and stops its server', () => {
    const tb = registry.tbench!;
    const p = tb.params.parse({});
    const setup = tb.setup!(p, ctx).join('\n');
    assert.match(setup, /tbench_srv .*&/);
    assert.match(setup, /:1B5B 00000000:0000 0A/);
    assert.match(setup, /\/proc\/net\/tcp/);
    const pid = /> (\/tmp\/\S+\.pid)/.exec(setup)![1]!;
    assert.match(tb.teardown!(p, ctx).join('\n'), new RegExp(`kill "\\$\\(cat ${pid}\\)"`));
    assert.match(tb.run(p, ctx)[0]!, /\btbench -t 5 -c \S+ 2 127\.0\.0\.1$/);
  });

  it('kernbench mounts an overlay with its writable layers on scratch', () => {
    const kb = registry.kernbench!;
    const setup = kb.setup!(kb.params.parse({}), ctx);
    const mount = setup.find((l) => l.includes('mount -t overlay'))!;
    assert.ok(mount, setup.join('\n'));
    assert.match(mount, /lowerdir=\/usr\/src\/kernbench\/linux,upperdir=\/scratch\/kb\/upper,workdir=\/scratch\/kb\/work/);
    assert.match(mount, / \/scratch\/kb\/merged$/);
    assert.ok(setup.some((l) => /^make -j8 kernel\/sched\/core\.o /.test(l)), 'warm-up build at optimal load');
    const noWarm = kb.setup!(kb.params.parse({ warmupBuild: false }), ctx);
    assert.ok(!noWarm.some((l) => l.startsWith('make')));
    const def = kb.setup!(kb.params.parse({ config: 'defconfig', warmupBuild: false }), ctx).join('\n');
    assert.match(def, /cp \/usr\/src\/kernbench\/defconfig\.config \.config/);
    assert.match(def, /make olddefconfig/);
    assert.match(def, /make -j8 prepare/);
  });

  it('kernbench run recompiles its targets under GNU time and reports make status', () => {
    const kb = registry.kernbench!;
    const lines = kb.run(kb.params.parse({ targets: ['kernel/fork.o', 'fs/namei.o'], jobs: 3 }), ctx);
    assert.equal(lines[0], 'cd /scratch/kb/merged');
    assert.equal(lines[1], 'rm -f kernel/fork.o fs/namei.o');
    const timed = lines.find((l) => l.includes('/usr/bin/time'))!;
    assert.match(timed, /-f 'tb-kernbench elapsed=%e user=%U sys=%S cpu=%P ctxsw_invol=%c ctxsw_vol=%w maxrss_kb=%M' make -j3 kernel\/fork\.o fs\/namei\.o /);
    assert.ok(lines.some((l) => l.includes('tb-kernbench make_status=$st')));
    const whole = kb.run(kb.params.parse({ targets: ['vmlinux'] }), ctx);
    assert.ok(whole.includes('make clean > /dev/null 2>&1'), 'non-object targets fall back to make clean');
  });

  it('kernbench jobs follow kernbench 0.42', () => {
    assert.equal(makeJobs('optimal', 2), '8');
    assert.equal(makeJobs('optimal', 4), '16');
    assert.equal(makeJobs('half', 2), '1');
    assert.equal(makeJobs('half', 4), '3');
    assert.equal(makeJobs('half', 8), '4');
    assert.equal(makeJobs('maximal', 8), '');
    assert.equal(makeJobs(5, 8), '5');
    const kb = registry.kernbench!;
    assert.ok(kb.run(kb.params.parse({ jobs: 'maximal' }), ctx).some((l) => / make -j kernel\//.test(l)));
  });

  it('syscall-loop uses every guest CPU by default', () => {
    const sl = registry['syscall-loop']!;
    assert.deepEqual(sl.run(sl.params.parse({}), ctx), ['tb-syscall-loop -n 200000 -c 2']);
    assert.deepEqual(sl.run(sl.params.parse({ calls: 1000, cpus: 1 }), ctx), ['tb-syscall-loop -n 1000 -c 1']);
  });
});
