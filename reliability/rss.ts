// A process's resident set size over a scenario: read from /proc every `intervalMs`, so a
// peak between two readings of the scenario's own is seen too.
import { rssOf } from './processes.js';

const MiB = 1024 * 1024;

export interface RssWatch {
  /** MiB at the start of the watch. */
  readonly startMiB: number;
  /** The highest reading so far, MiB. */
  peakMiB(): number;
  /** Stops reading; MiB now. */
  stop(): number;
}

/** Watches the RSS of `pid` from now on. */
export function watchRss(pid: number, intervalMs = 100): RssWatch {
  const startMiB = rssOf(pid) / MiB;
  let peak = startMiB;
  const read = (): number => {
    const now = rssOf(pid) / MiB;
    peak = Math.max(peak, now);
    return now;
  };
  const timer = setInterval(read, intervalMs);
  return {
    startMiB,
    peakMiB: () => Math.max(peak, read()),
    stop() {
      clearInterval(timer);
      return read();
    },
  };
}
