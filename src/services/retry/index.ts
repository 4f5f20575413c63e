/** Retry with capped exponential backoff and jitter: `retry`, its policy, defaults and presets. */
export {
  RETRY_DEFAULTS,
  isRetryable,
  resolveRetryPolicy,
  retry,
  type ResolvedRetryPolicy,
  type RetryAttempt,
  type RetryFunction,
  type RetryInfo,
  type RetryPolicy,
} from './retry.js';
export { RETRY_PRESETS, RETRY_PRESET_NAMES, isRetryPresetName, type RetryPreset, type RetryPresetName } from './presets.js';
