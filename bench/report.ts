/** What a figure must reach: `value` or `ratio` at least / at most a number. */
export interface Target {
  of: 'value' | 'ratio';
  atLeast?: number;
  atMost?: number;
}

/** One benchmark figure, printed as one JSON line (the format every benchmark shares). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the baseline did, and how it differs from ours where it does. */
  baseline: string;
  baselineValue: number;
  /** value / baselineValue (for latencies, baselineValue / value: above 1 is better than baseline). */
  ratio: number;
  /** Runs the value and baselineValue are each the median of (1: a single run). */
  repeats: number;
  target?: Target;
}

/** The number of runs a benchmark takes the median of, unless BENCH_REPEATS says otherwise (a quick look). */
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

/** Prints one figure as one JSON line on stdout. */
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

/** CPU seconds (user + system) this process has used since `since` (a process.cpuUsage() reading). */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** A number as people read it: thousands separated, fewer decimals the larger it is (the tables of docs/benchmarks.md and docs/reliability.md). */
export function formatNumber(n: number): string {
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
