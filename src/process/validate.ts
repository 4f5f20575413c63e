/**
 * Standard Schema validation of a process's args, calls and casts.
 *
 * Any validator implementing Standard Schema v1 (zod, valibot, arktype, ...) works. Failing input
 * becomes a `BAD_REQUEST` error whose `details.issues` lists each issue's message and path, as plain
 * data that can cross the wire. A validator that itself throws is reported the same way, so bad
 * input never crashes the process. Validators may be async.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { CohortError } from '../core/errors.js';

/** One validation issue, as wire-safe data. */
export interface ValidationIssue {
  readonly message: string;
  readonly path?: readonly (string | number)[];
}

/** The outcome of a validation: the (possibly transformed) value, or the error to report. */
export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CohortError };

/**
 * Validates `value` against `schema`. Returns synchronously when the schema does.
 *
 * @param what - names the input in the error message, e.g. "call to <pid>"
 */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  what: string,
): Validated<T> | Promise<Validated<T>> {
  let result: StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (cause) {
    return { ok: false, error: new CohortError('BAD_REQUEST', `${what}: the validator threw`, { cause }) };
  }
  if (result instanceof Promise) {
    return result.then(
      (r) => settle(r, what),
      (cause: unknown) => ({ ok: false, error: new CohortError('BAD_REQUEST', `${what}: the validator threw`, { cause }) }),
    );
  }
  return settle(result, what);
}

function settle<T>(result: StandardSchemaV1.Result<T>, what: string): Validated<T> {
  if (result.issues === undefined) return { ok: true, value: result.value };
  const issues = result.issues.map(toIssue);
  const summary = issues
    .slice(0, 3)
    .map((i) => (i.path !== undefined && i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return {
    ok: false,
    error: new CohortError('BAD_REQUEST', `${what} failed validation: ${summary}${more}`, { details: { issues } }),
  };
}

function toIssue(issue: StandardSchemaV1.Issue): ValidationIssue {
  const message = String(issue.message);
  if (issue.path === undefined || issue.path.length === 0) return { message };
  const path = issue.path.map((p) => {
    const key = typeof p === 'object' && p !== null ? p.key : p;
    return typeof key === 'number' ? key : String(key);
  });
  return { message, path };
}
