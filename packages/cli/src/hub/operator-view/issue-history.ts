import type { HistoryMinute } from '@tessera/console';

const MINUTE = 60_000;

/**
 * Leases issued and revoked per minute on this hub, for the last `minutes`
 * minutes (docs/protocol.md §8, a snapshot's `history`): one counter pair per
 * minute, older minutes dropped as time passes.
 */
export class IssueHistory {
  private readonly counts = new Map<number, { issued: number; revoked: number }>();

  constructor(private readonly minutes = 60) {}

  issued(now: number): void {
    this.at(now).issued++;
  }

  revoked(now: number): void {
    this.at(now).revoked++;
  }

  /** The last `minutes` minutes, oldest first, the one holding `now` last; minutes without a lease count 0. */
  recent(now: number): HistoryMinute[] {
    const current = minuteOf(now);
    const list: HistoryMinute[] = [];
    for (let i = this.minutes - 1; i >= 0; i--) {
      const minute = current - i * MINUTE;
      const c = this.counts.get(minute);
      list.push({ minute: new Date(minute).toISOString(), issued: c?.issued ?? 0, revoked: c?.revoked ?? 0 });
    }
    return list;
  }

  private at(now: number): { issued: number; revoked: number } {
    const minute = minuteOf(now);
    let c = this.counts.get(minute);
    if (c === undefined) {
      this.counts.set(minute, (c = { issued: 0, revoked: 0 }));
      const oldest = minute - (this.minutes - 1) * MINUTE;
      for (const key of this.counts.keys()) if (key < oldest) this.counts.delete(key);
    }
    return c;
  }
}

function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}
