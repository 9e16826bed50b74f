/** Counts by a key from a fixed, small set of names (reasons, codes): bounded by that set. */
export class CountsBy {
  private readonly counts = new Map<string, number>();

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** What a relay service counts since it started: registrations, messages its forwarders sent on and dropped. */
export class RelayCounters {
  /** `attach`es that made a connection a relay's route. */
  registrations = 0;
  /** `create` and `attach` requests refused, by failure code. */
  readonly refused = new CountsBy();
  /** Messages forwarders sent on, by direction (`to_device`, `from_device`). */
  readonly forwarded = new CountsBy();
  /** Messages for `forward_to_<name>` dropped, by reason. */
  readonly dropped = new CountsBy();
}
