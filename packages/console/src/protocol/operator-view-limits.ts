// The bounds of the operator's view (docs/protocol.md §8), in a module of
// their own that holds no schema: the page's bundle uses them without zod.

/** Bounds of the subscriptions a hub keeps (docs/protocol.md §8). */
export const SUBSCRIPTION_LIMITS = Object.freeze({
  /** Subscriptions held by one hub at once. */
  perHub: 8,
  /** Subscriptions held by one identity at once. */
  perIdentity: 2,
  /** A subscription not renewed for this long (ms) ends. */
  lifetime: 60_000,
  /** How often a subscriber should renew (ms): half the lifetime. */
  renewEvery: 30_000,
  /** Events sent and not yet acknowledged (renew's `seq`); the hub counts further ones as dropped and sends a `gap`. */
  unacknowledged: 1_000,
});

/** Bounds of a snapshot: leases (soonest expiry first) and members (identifier order), each within a byte budget. */
export const SNAPSHOT_LIMITS = Object.freeze({ leases: 1_000, leaseBytes: 384 * 1024, members: 1_000, memberBytes: 128 * 1024, historyMinutes: 60 });
