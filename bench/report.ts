/** One benchmark figure, printed as one JSON line (the format every benchmark shares). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  /** value / baselineValue (for latencies, baselineValue / value: above 1 is better than baseline). */
  ratio: number;
}

export function report(figure: Omit<Figure, 'ratio'> & { ratio?: number }): void {
  const ratio = figure.ratio ?? (figure.baselineValue === 0 ? 0 : figure.value / figure.baselineValue);
  const line: Figure = { ...figure, value: round(figure.value), baselineValue: round(figure.baselineValue), ratio: round(ratio, 3) };
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) of a list of numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
