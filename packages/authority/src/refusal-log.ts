import type { Clock, Logger } from '@tessera/core';
import type { RefusalReason } from './member-store.js';

const REASONS: readonly RefusalReason[] = ['unknown', 'expired', 'used_up', 'already_member', 'full'];

/** One refused enrollment as the log has it: the token's reference (never the token), who presented it, and why. */
export interface RefusedEnrollment {
  reference: string;
  identifier: string;
  reason: RefusalReason;
}

export interface RefusalLogOptions {
  /** Where lines go (read at each line: the worker's logger is known only once it runs). */
  logger: () => Logger;
  clock: Clock;
  /** Milliseconds between summary lines (at most one per interval). */
  interval: number;
}

const zero = (): Record<RefusalReason, number> => Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;

/**
 * The hub's log of refused enrollments, bounded under a flood: the first
 * refusal of each reason is logged at once (with the token's reference, so an
 * operator can tell which token a device holds); those of a reason already
 * logged are counted, and at most one summary line per `interval` gives the
 * counts. An interval that counted nothing ends it: the next refusal is logged
 * at once again. `full` is at warn (an operator must hear of it), the rest at
 * info. Totals by reason since start, for /metrics.
 */
export class RefusalLog {
  private readonly totals = zero();
  /** Refusals counted and not logged yet, by reason. */
  private unlogged = zero();
  /** Reasons logged once already, whose next refusals are counted until a quiet interval. */
  private readonly summarized = new Set<RefusalReason>();
  private timer: unknown;
  private armed = false;

  constructor(private readonly options: RefusalLogOptions) {}

  refused(refusal: RefusedEnrollment): void {
    this.totals[refusal.reason]++;
    if (this.summarized.has(refusal.reason)) {
      this.unlogged[refusal.reason]++;
      return;
    }
    this.summarized.add(refusal.reason);
    const logger = this.options.logger();
    if (refusal.reason === 'full') logger.warn(refusal, 'enrollment refused: the member store is full; remove members or raise maxMembers');
    else logger.info(refusal, 'enrollment refused');
    this.arm();
  }

  /** Refused enrollments since start, by reason. */
  counts(): Record<RefusalReason, number> {
    return { ...this.totals };
  }

  /** Logs what was counted and not logged yet, and stops the timer (the worker stops). */
  flush(): void {
    if (this.armed) this.options.clock.clearTimeout(this.timer);
    this.armed = false;
    this.summarize();
    this.summarized.clear();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.timer = this.options.clock.setTimeout(() => {
      this.armed = false;
      if (this.summarize()) this.arm();
      else this.summarized.clear();
    }, this.options.interval);
  }

  /** Logs one line with the counts not logged yet; false when there are none. */
  private summarize(): boolean {
    const refused = Object.fromEntries(REASONS.filter((r) => this.unlogged[r] > 0).map((r) => [r, this.unlogged[r]])) as Partial<Record<RefusalReason, number>>;
    if (Object.keys(refused).length === 0) return false;
    this.unlogged = zero();
    const fields = { refused, intervalMs: this.options.interval };
    const logger = this.options.logger();
    if (refused.full !== undefined) logger.warn(fields, 'enrollment refusals not logged one by one, by reason (the member store is full)');
    else logger.info(fields, 'enrollment refusals not logged one by one, by reason');
    return true;
  }
}
