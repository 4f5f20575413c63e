/**
 * Catching the `CohortError` an operation must fail with, so a test can assert its code and message.
 * Anything else (no error, or an error that is not a `CohortError`) fails the test.
 */
import { expect } from 'vitest';
import { CohortError } from '../../src/core/errors.js';

/** The `CohortError` a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<CohortError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CohortError);
    return error as CohortError;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** The `CohortError` a function throws. */
export function thrown(fn: () => unknown): CohortError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CohortError);
    return error as CohortError;
  }
  throw new Error('expected a CohortError, nothing was thrown');
}
