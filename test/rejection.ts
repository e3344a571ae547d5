// The TracebenchError a promise rejects with (fails the test for anything else).
import assert from 'node:assert/strict';
import { TracebenchError } from '../harness/errors.js';

export async function rejection(p: Promise<unknown>): Promise<TracebenchError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TracebenchError, String(e));
    return e;
  }
  assert.fail('expected a TracebenchError');
}
