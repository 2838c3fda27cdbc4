/**
 * Whether a series of RSS samples (one a second) stays flat.
 *
 * Flat means: the median of the last quarter of the run is at most `toleranceMb` above the median
 * of the second quarter. The first quarter is left out on purpose: it is warm-up (V8 growing its
 * heap to the working set, code being compiled, the first workers' buffers); medians, not single
 * samples, so a GC cycle caught at its peak does not decide anything. A leak shows as a rise that
 * continues through the run, which the comparison of the second and last quarters measures
 * directly (half the run apart).
 */

export interface RssVerdict {
  readonly flat: boolean;
  readonly samples: number;
  readonly startMb: number;
  readonly endMb: number;
  readonly peakMb: number;
  /** Medians of each quarter of the run, in MiB. */
  readonly quarterMediansMb: readonly [number, number, number, number];
  /** median(last quarter) − median(second quarter), in MiB. */
  readonly growthMb: number;
  readonly toleranceMb: number;
  readonly reason: string;
}

const MiB = 1024 * 1024;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round1 = (mb: number) => Math.round(mb * 10) / 10;

/** Judges `samples` (bytes). Needs at least 8 samples (8 seconds) to say "flat". */
export function rssVerdict(samples: readonly number[], toleranceMb: number): RssVerdict {
  const n = samples.length;
  const quarter = (k: number) => samples.slice(Math.floor((k * n) / 4), Math.floor(((k + 1) * n) / 4));
  const medians = [0, 1, 2, 3].map((k) => (n >= 4 ? round1(median(quarter(k)) / MiB) : 0)) as [number, number, number, number];
  const growthMb = round1(medians[3] - medians[1]);
  const enough = n >= 8;
  const flat = enough && growthMb <= toleranceMb;
  return {
    flat,
    samples: n,
    startMb: n ? round1(samples[0]! / MiB) : 0,
    endMb: n ? round1(samples[n - 1]! / MiB) : 0,
    peakMb: n ? round1(Math.max(...samples) / MiB) : 0,
    quarterMediansMb: medians,
    growthMb,
    toleranceMb,
    reason: !enough
      ? `too few samples (${n}) to judge: run at least 8 seconds`
      : flat
        ? `last-quarter median is ${growthMb} MiB from the second-quarter median (tolerance ${toleranceMb} MiB)`
        : `last-quarter median is ${growthMb} MiB above the second-quarter median (tolerance ${toleranceMb} MiB): RSS keeps growing`,
  };
}
