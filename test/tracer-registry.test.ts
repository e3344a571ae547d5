// Tracer knowledge lives in the drivers (issue 14, part 1): the image recipe, the
// kernel schema, compare and import read it from the registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelConfigSchema, sourceAxes } from '../harness/config.js';
import { defaultRecipe } from '../harness/image/recipe.js';
import { tracerOf } from '../harness/import.js';
import { tracers } from '../harness/tracers/index.js';
import type { TracerDriver } from '../harness/types.js';

const drivers = Object.values(tracers as Record<string, TracerDriver>);

describe('the tracer registry feeds the rest', () => {
  it('every driver\'s packages and steps are in the default image recipe, in registry order after the base', () => {
    const pkgs = drivers.flatMap((d) => d.image?.packages ?? []);
    assert.deepEqual(defaultRecipe.packages.slice(-pkgs.length), pkgs);
    assert.deepEqual(pkgs, ['lttng-tools', 'babeltrace2', 'linux-perf', 'bpftrace', 'bpftool']);
    const steps = drivers.flatMap((d) => d.image?.steps ?? []);
    assert.deepEqual(defaultRecipe.steps.slice(-steps.length), steps);
  });
  it('each source axis is a kernel-entry field with its default word, built by a step of the recipe', () => {
    // config.ts types these fields as SourceField: a driver adding an axis must add its field there too
    assert.deepEqual(sourceAxes().map((a) => a.field), ['lttngModules', 'ktrace']);
    const k = kernelConfigSchema.parse({ name: 'k', source: 'debian-package' }) as Record<string, unknown>;
    for (const a of sourceAxes()) {
      assert.equal(k[a.field], a.defaultWord);
      assert.ok(defaultRecipe.steps.some((s) => s.name === a.step), `step ${a.step}`);
    }
  });
  it('import knows every registered tracer by its config-name prefix', () => {
    for (const name of Object.keys(tracers)) assert.equal(tracerOf(`${name}-variant`), name);
    assert.equal(tracerOf('perf-streaming'), 'perf');
    assert.equal(tracerOf('systemtap-5'), 'systemtap-5');
  });
});
