// A process's resident memory read from /proc every `everyMs` while a scenario runs, to tell
// where it started, how high it went and whether it kept growing once warm.
import { rssOf } from './processes.js';

const MIB = 1024 * 1024;

export class RssSampler {
  /** [when (epoch ms), bytes] */
  readonly samples: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | undefined;

  /** Samples `pid` (a function: the PID changes when the process is restarted) every `everyMs`. */
  constructor(
    private readonly pid: () => number,
    everyMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads it now (also between the periodic reads). */
  sample(): number {
    const bytes = rssOf(this.pid());
    if (bytes > 0) this.samples.push([Date.now(), bytes]);
    return bytes;
  }

  /** The highest reading in [from, to), MiB. */
  peakMiB(from = -Infinity, to = Infinity): number {
    return Math.max(0, ...this.within(from, to)) / MIB;
  }

  /** The mean of the readings in [from, to), MiB; NaN when there are none (a figure then fails its bound). */
  meanMiB(from: number, to: number): number {
    const values = this.within(from, to);
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length / MIB;
  }

  private within(from: number, to: number): number[] {
    return this.samples.filter(([t]) => t >= from && t < to).map(([, bytes]) => bytes);
  }
}

/** Bytes as MiB. */
export function mib(bytes: number): number {
  return bytes / MIB;
}
