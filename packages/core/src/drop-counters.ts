/** Why a message was dropped. Transports add their own reasons (e.g. `invalid_frame`). */
export type DropReason =
  | 'unknown_address'
  | 'no_transport'
  | 'mailbox_full'
  | 'access_denied'
  | 'empty_onward'
  | 'stopped'
  | (string & {});

/** Counts of dropped messages by reason. */
export class DropCounters {
  private readonly counts = new Map<DropReason, number>();

  add(reason: DropReason, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: DropReason): number {
    return this.counts.get(reason) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
