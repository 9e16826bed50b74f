// A reliability scenario: one file under reliability/scenarios/, run at a size, emitting
// figures. Every process it starts is stopped by its PID before `run` settles (also
// when it throws); every loop in it is bounded in count and time; loopback only.
import type { Evidence } from './evidence.js';
import type { Emit, Size } from './figure.js';

export interface Scenario {
  /** Short, kebab-case: the `scenario` of its figures and the argument that picks it. */
  name: string;
  /** What it does, one sentence (docs/reliability.md prints it). */
  description: string;
  /**
   * Runs at `size`, emitting every figure; throws only when it could not measure at all.
   * Every output of every process it starts goes to `evidence`, with every secret it
   * creates or learns (the suite scans them).
   */
  run(size: Size, emit: Emit, evidence: Evidence): Promise<void>;
}
