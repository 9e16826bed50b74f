// One reliability figure: what a scenario measured, the bound it must keep, and whether
// it kept it. The suite prints each as one JSON line; docs/reliability.md is generated
// from those lines; the CI-sized run asserts `ok` for each.

/** How big a scenario runs: `full` for `npm run test:reliability`, `ci` inside `npm test`. */
export type Size = 'full' | 'ci';

/** The bound a figure must keep; a figure without one is reported, not judged. */
export interface Bound {
  atMost?: number;
  atLeast?: number;
}

export interface ReliabilityFigure {
  /** The scenario that measured it (load, crash, outages, hostile-input, hostile-peers, secrets, long-run). */
  scenario: string;
  /** What was measured, in words a reader of docs/reliability.md understands. */
  name: string;
  value: number;
  unit: string;
  bound?: Bound;
  /** Whether `value` keeps `bound` (true when there is no bound). */
  ok: boolean;
  size: Size;
}

/** Whether `value` keeps `bound`. */
export function keeps(value: number, bound: Bound | undefined): boolean {
  if (bound === undefined) return true;
  if (!Number.isFinite(value)) return false;
  if (bound.atMost !== undefined && value > bound.atMost) return false;
  if (bound.atLeast !== undefined && value < bound.atLeast) return false;
  return true;
}

/** Where a scenario puts what it measured. */
export type Emit = (figure: Omit<ReliabilityFigure, 'ok' | 'size' | 'scenario'>) => void;
