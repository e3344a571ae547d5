// --resume continues only the run that would start now: the difference is named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resumeMismatch } from '../harness/resume.js';
import type { Manifest } from '../harness/store/schema.js';

const definition = { name: 'quick', rounds: 2, order: 'random', configs: ['vanilla', 'ftrace'], workloads: [{ name: 'dbench', params: { clients: 2, seconds: 5 } }], machine: { cpus: 2 } };
const manifest = (over: Partial<Manifest> = {}) =>
  ({ suite: { name: 'quick', file: '/a/quick.yaml', definition }, kernels: [{ name: 'debian', imageKey: 'aaaa' }], ...over }) as unknown as Manifest;

describe('resume', () => {
  test('the same suite and image may resume, whatever the key order or the file path', () => {
    const reordered = { machine: { cpus: 2 }, workloads: definition.workloads, configs: definition.configs, order: 'random', rounds: 2, name: 'quick' };
    assert.deepEqual(resumeMismatch(manifest(), { definition: reordered, imageKeys: { debian: 'aaaa' } }), []);
  });
  test('a changed suite field is named with both values', () => {
    const now = { ...definition, rounds: 3, workloads: [{ name: 'dbench', params: { clients: 4, seconds: 5 } }] };
    assert.deepEqual(resumeMismatch(manifest(), { definition: now, imageKeys: { debian: 'aaaa' } }), [
      'suite.rounds: 2 -> 3',
      'suite.workloads: [{"name":"dbench","params":{"clients":2,"seconds":5}}] -> [{"name":"dbench","params":{"clients":4,"seconds":5}}]',
    ]);
  });
  test('another image, or another set of kernels, is named', () => {
    assert.deepEqual(resumeMismatch(manifest(), { definition, imageKeys: { debian: 'bbbb' } }), ['kernel debian: image aaaa -> bbbb']);
    assert.deepEqual(resumeMismatch(manifest(), { definition, imageKeys: { other: 'aaaa' } }), [
      'kernel debian: in the recorded run, not in the suite now',
      'kernel other: in the suite now, not in the recorded run',
    ]);
  });
});
