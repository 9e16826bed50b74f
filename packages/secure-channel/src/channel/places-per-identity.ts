/**
 * Places held per peer identity, at most `max` each: a listener's channels
 * and the handshakes about to become one. An identity is kept only while it
 * holds a place, so the map is bounded by what the listener holds.
 */
export class PlacesPerIdentity {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a place for `identifier`; false when it holds `max` already. */
  take(identifier: string): boolean {
    const n = this.held.get(identifier) ?? 0;
    if (n >= this.max) return false;
    this.held.set(identifier, n + 1);
    return true;
  }

  /** Gives back a place `take` granted. */
  give(identifier: string): void {
    const n = this.held.get(identifier) ?? 0;
    if (n <= 1) this.held.delete(identifier);
    else this.held.set(identifier, n - 1);
  }
}
