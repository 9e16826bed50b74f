/**
 * A listener's half-open handshakes, grouped by source (the connection
 * message 1 came in on, or a tunnelling channel's peer), oldest first within
 * each. It chooses which one gives way when the listener is full: the oldest
 * of the source holding the most, so a few sources that flood can only push
 * out their own handshakes, never the single one of an honest initiator.
 * Sources are kept only while they hold some, so the map is bounded by the
 * listener's bound on half-open handshakes.
 */
export class HalfOpenHandshakes<T> {
  private readonly bySource = new Map<string, Set<T>>();
  private count = 0;

  /** Half-open handshakes held, in all. */
  get size(): number {
    return this.count;
  }

  /** Those held for `source`. */
  of(source: string): number {
    return this.bySource.get(source)?.size ?? 0;
  }

  add(source: string, handshake: T): void {
    let held = this.bySource.get(source);
    if (held === undefined) this.bySource.set(source, (held = new Set()));
    if (held.has(handshake)) return;
    held.add(handshake);
    this.count++;
  }

  delete(source: string, handshake: T): void {
    const held = this.bySource.get(source);
    if (held === undefined || !held.delete(handshake)) return;
    this.count--;
    if (held.size === 0) this.bySource.delete(source);
  }

  /**
   * The handshake to give way to a newcomer from `source`: the oldest of the
   * source holding the most; the newcomer's own source when it holds as many
   * (it only slows itself), else among equals the one that has held longest.
   */
  victim(source: string): T | undefined {
    let most = this.bySource.get(source);
    for (const held of this.bySource.values()) if (held.size > (most?.size ?? 0)) most = held;
    return most?.values().next().value;
  }

  /** Every half-open handshake, oldest of each source first. */
  all(): T[] {
    return [...this.bySource.values()].flatMap((held) => [...held]);
  }
}
