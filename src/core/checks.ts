/**
 * Small shape checks shared by the option validators (membership, retry, circuit breakers): they
 * only answer whether a value looks like what an option expects; the caller says what was wrong.
 */

/** Whether `value` is an object with a function under each of `names` (a Clock, a Logger, ...). */
export function hasMethods(value: unknown, names: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}
