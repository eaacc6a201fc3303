/**
 * Robust summaries for a noisy 2-core machine: medians and quartiles rather than means, and ratios taken per
 * round (both sides measured back to back) so slow drift from other load cancels out of the comparison.
 */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** Per-round ratios a[i]/b[i]: the two were measured in the same round, so the ratio is free of drift. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.slice(0, Math.min(a.length, b.length)).map((x, i) => x / b[i]!);
}

/** "123 ms (IQR 110-140, n=15)": the figure a reader needs to judge a median. */
export function fmt(s: Summary, unit: string, digits = 0): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)} ${unit} (IQR ${f(s.p25)}–${f(s.p75)}, n=${s.n})`;
}

/** A small deterministic PRNG (mulberry32): the run's order is shuffled, yet the same seed replays it. */
export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
