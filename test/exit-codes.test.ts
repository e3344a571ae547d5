// Exit codes of the real CLI, by meaning (harness/errors.ts, README "Exit codes"):
// a crash (1) must never read as a regression (5), and a comparison that could
// judge nothing (6) must never read as a pass (0). The result sets are made with
// `tracebench import`, as a user would.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ExitCode } from '../harness/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEADER = 'workload,config,iteration,metric,value,unit';
const cli = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/tracebench.ts'), ...args], { cwd: ROOT, reject: false });

/** CSV rows for dbench throughput: one row per value, iterations numbered from 1 */
function csv(cells: Record<string, number[]>): string {
  const rows = Object.entries(cells).flatMap(([config, values]) => values.map((v, i) => `dbench,${config},${i + 1},throughput,${v},MB/s`));
  return [HEADER, ...rows].join('\n') + '\n';
}

describe('exit codes (the real CLI)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tracebench-exit-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const run = (name: string) => join(tmp, name);

  before(async () => {
    const sets: Record<string, Record<string, number[]>> = {
      // a quick run: two iterations per cell, below minSamples (3): nothing can be judged
      'quick-a': { vanilla: [100, 98], ftrace: [94, 93] },
      'quick-b': { vanilla: [101, 99], ftrace: [95, 92] },
      // six quiet iterations: ftrace costs 5 %, then 5 % again, then 30 %
      base: { vanilla: [100, 101, 99, 100, 102, 98], ftrace: [95, 96, 94, 95, 97, 93] },
      same: { vanilla: [101, 100, 99, 101, 100, 99], ftrace: [96, 95, 94, 96, 95, 94] },
      slower: { vanilla: [100, 101, 99, 100, 102, 98], ftrace: [70, 71, 69, 70, 72, 68] },
    };
    for (const [name, cells] of Object.entries(sets)) {
      const file = join(tmp, `${name}.csv`);
      writeFileSync(file, csv(cells));
      const r = await cli('import', file, '--out', run(name));
      assert.equal(r.exitCode, 0, r.stderr);
    }
  });

  it('the codes are distinct', () => {
    const codes = Object.values(ExitCode);
    assert.equal(new Set(codes).size, codes.length);
    assert.deepEqual(ExitCode, { ok: 0, internal: 1, usage: 2, host: 3, guest: 4, regression: 5, inconclusive: 6, interrupted: 130 });
  });

  it('compare of two quick runs where every cell is insufficient data: "result: inconclusive", exit 6, never "no regression"', async () => {
    const r = await cli('compare', run('quick-a'), run('quick-b'));
    assert.equal(r.exitCode, ExitCode.inconclusive, r.stderr);
    assert.match(r.stdout, /insufficient data/);
    assert.match(r.stdout, /^result: inconclusive/m);
    assert.doesNotMatch(r.stdout, /no regression/);
    assert.equal(r.stderr, `error: inconclusive: no gated cell of quick-b vs quick-a could be judged (1 of 1 insufficient data)\nhint: each gated cell needs at least 3 ok samples per config in both runs: run a longer suite (e.g. --suite standard)`);
    // the machine-readable result says so too
    const j = await cli('compare', run('quick-a'), run('quick-b'), '--json');
    assert.equal(j.exitCode, ExitCode.inconclusive);
    assert.equal(JSON.parse(j.stdout).cells[0].verdict, 'insufficient-data');
  });

  it('compare: a regression exits 5, no regression exits 0', async () => {
    const reg = await cli('compare', run('base'), run('slower'));
    assert.equal(reg.exitCode, ExitCode.regression, reg.stderr);
    assert.match(reg.stdout, /^result: 1 regression found$/m);
    assert.match(reg.stderr, /^error: 1 regression in slower vs base$/m);
    const ok = await cli('compare', run('base'), run('same'));
    assert.equal(ok.exitCode, ExitCode.ok, ok.stderr);
    assert.match(ok.stdout, /^result: no regression/m);
  });

  it('compare of missing directories exits 2 naming each', async () => {
    const both = await cli('compare', run('nope-a'), run('nope-b'));
    assert.equal(both.exitCode, ExitCode.usage);
    assert.equal(both.stdout, '');
    assert.equal(
      both.stderr,
      `error: baseline ${run('nope-a')}: no such directory; candidate ${run('nope-b')}: no such directory\nhint: pass results/<run-id> directories (or a results root with an accepted baseline)`,
    );
    const one = await cli('compare', run('base'), run('nope-b'));
    assert.equal(one.exitCode, ExitCode.usage);
    assert.equal(one.stderr, `error: candidate ${run('nope-b')}: no such directory\nhint: pass results/<run-id> directories (or a results root with an accepted baseline)`);
    const file = await cli('compare', join(tmp, 'base.csv'), run('base'));
    assert.equal(file.exitCode, ExitCode.usage);
    assert.match(file.stderr, /^error: baseline .*base\.csv: not a directory$/m);
  });

  it('a bad command line exits 2', async () => {
    const r = await cli('compare', run('base'));
    assert.equal(r.exitCode, ExitCode.usage);
  });
});
