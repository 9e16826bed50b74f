/**
 * Where the callers of one forwarder asked for answers: per caller connection,
 * the addresses after it in their return routes, each until when (ms on the
 * node's clock). At most `max` places in all. When a new one would pass that,
 * the caller holding the most places gives up its oldest: every request of a
 * node has a reply address of its own, so one caller sending many requests
 * (or forging many return routes) otherwise pushed every other caller's place
 * out, and the device's answers to them were refused.
 */
export class ReplyPlaces {
  /** Per caller connection, its places (the address after it, as a key) in the order they were last used. */
  private readonly byConnection = new Map<string, Map<string, number>>();
  private size = 0;

  constructor(private readonly max: number) {}

  /** Remembers that `connection`, then `after`, may be answered until `until`. */
  remember(connection: string, after: string, until: number): void {
    let places = this.byConnection.get(connection);
    if (places === undefined) {
      places = new Map();
      this.byConnection.set(connection, places);
    }
    if (!places.delete(after)) this.size++;
    places.set(after, until);
    if (this.size > this.max) this.forgetOne(connection, places);
  }

  /** Whether `connection`, then `after`, may be answered at `now`. */
  allows(connection: string, after: string, now: number): boolean {
    const until = this.byConnection.get(connection)?.get(after);
    return until !== undefined && until >= now;
  }

  /**
   * Forgets the oldest place of the caller holding the most: `adding` itself when it holds at least
   * its share (a flooder pays for its own flood without a search), else the largest other caller.
   */
  private forgetOne(adding: string, places: Map<string, number>): void {
    let connection = adding;
    let largest = places;
    if (places.size === 1 || places.size * this.byConnection.size < this.size) {
      let most = 0;
      for (const [c, p] of this.byConnection) {
        if (c !== adding && p.size > most) {
          connection = c;
          largest = p;
          most = p.size;
        }
      }
    }
    largest.delete(largest.keys().next().value!);
    this.size--;
    if (largest.size === 0) this.byConnection.delete(connection);
  }
}
