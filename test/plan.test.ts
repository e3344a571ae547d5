// The order of boots: seeded, reproducible, and not confounded with configuration.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSuite } from '../harness/config.js';
import { plan, planRounds } from '../harness/plan.js';

const quick = () => loadSuite('quick');

describe('plan order', () => {
  test('the same seed gives the same plan; another seed another order', () => {
    const ids = (seed: number) => plan(quick(), seed).map((b) => b.id);
    assert.deepEqual(ids(7), ids(7));
    assert.notDeepEqual(ids(7), ids(8));
  });
  test('every round boots every configuration once, and indices follow execution order', () => {
    const s = quick();
    const boots = plan(s, 12345);
    assert.deepEqual(boots.map((b) => b.index), boots.map((_, i) => i + 1));
    for (let r = 1; r <= s.rounds; r++) {
      assert.deepEqual(boots.filter((b) => b.round === r).map((b) => b.config.name).sort(), s.configs.map((c) => c.name).sort());
    }
  });
  test('over many seeds vanilla is first in about 1 of 5 rounds, not always (5 configurations)', () => {
    const s = quick();
    let first = 0, rounds = 0;
    for (let seed = 0; seed < 400; seed++) {
      for (const b of plan(s, seed)) {
        if (b.index % s.configs.length === 1) {
          rounds++;
          if (b.config.name === 'vanilla') first++;
        }
      }
    }
    const share = first / rounds;
    assert.ok(share > 0.15 && share < 0.25, `vanilla first in ${(100 * share).toFixed(1)} % of rounds`);
  });
  test('an added round does not depend on the rounds before it (adaptive sampling, --resume)', () => {
    const s = quick();
    const full = plan({ ...s, rounds: 3 }, 99).filter((b) => b.round === 3).map((b) => b.config.name);
    assert.deepEqual(planRounds(s, 3, 3, 10, 99).map((b) => b.config.name), full);
  });
  test('order: fixed keeps the suite order', () => {
    const s = loadSuite(join(import.meta.dirname, 'fixtures/suites/tiny.yaml'));
    assert.deepEqual(plan({ ...s, order: 'fixed' }, 5).map((b) => b.config.name), ['vanilla', 'ftrace', 'vanilla', 'ftrace']);
  });
});
