/**
 * What every benchmark of this folder measures and prints the same way: the median of rounds,
 * latency percentiles of sequential operations, and aligned text tables.
 */

/** Latency percentiles of sequential operations, in microseconds. */
export interface Latency {
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/** Times `samples` sequential runs of `single`, one by one. */
export async function latency(single: () => Promise<unknown>, samples: number): Promise<Latency> {
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await single();
    times[i] = performance.now() - t0;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.floor(q * samples))]! * 1000;
  return { samples, p50Us: at(0.5), p99Us: at(0.99), p999Us: at(0.999), maxUs: times[samples - 1]! * 1000 };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A text table: the first column left-aligned (names), the others right-aligned (numbers). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}
