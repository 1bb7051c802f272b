/** Asserts that `p` rejects with a UserError of `code`; returns it for further checks. */
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors';

export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected rejection with ${code}`);
}
