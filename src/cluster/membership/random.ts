/**
 * Small helpers over an injected `random: () => number`, so that every random choice of the
 * protocol (shuffles, jitter, peers for indirect probes, sync and leave) is reproducible in tests.
 * A source that strays outside `[0, 1)` is clamped rather than trusted.
 */

/** Keeps a misbehaving random source inside `[0, 1)`. */
export function clamp01(r: number): number {
  return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
}

/** Up to `k` distinct random elements of `from` (a partial Fisher-Yates on a copy). */
export function pickRandom<T>(from: readonly T[], k: number, random: () => number): T[] {
  const a = [...from];
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(clamp01(random()) * (a.length - i));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, n);
}

/** `ms` spread uniformly by ± `jitter` (a fraction): periodic timers do not synchronise across nodes. */
export function jittered(ms: number, jitter: number, random: () => number): number {
  return ms * (1 + jitter * (2 * clamp01(random()) - 1));
}
