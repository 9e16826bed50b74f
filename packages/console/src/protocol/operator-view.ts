import { z } from 'zod';
import { SNAPSHOT_LIMITS } from './operator-view-limits.js';

// The operator's view of a hub (docs/protocol.md §8): what the `hub_events`
// worker answers and sends. The hub builds these values; the console reads them
// with these schemas. No schema here has room for a lease's value or a
// bootstrap token: a lease is described by its id only.

/** The LOCAL address of the hub's events worker. */
export const HUB_EVENTS_WORKER = 'hub_events';

export { SNAPSHOT_LIMITS, SUBSCRIPTION_LIMITS } from './operator-view-limits.js';

const Identifier = z.string().regex(/^I[0-9a-f]{64}$/);
const IsoTime = z.iso.datetime();
const Attributes = z.record(z.string().max(64), z.string().max(256));
/** A lease id as the cloud makes it: never a token. */
const LeaseId = z.string().min(1).max(256);

export const PrivilegeSchema = z.object({ resource: z.string().max(255), access: z.enum(['read', 'write']) });

/** A lease as an operator sees it: who holds it, what it may do, when it ends. Never its value. */
export const LeaseSummarySchema = z.object({
  id: LeaseId,
  /** The identifier of the member that holds it (or `anonymous`, a connection, on hubs of the past). */
  owner: z.string().max(256),
  /** The owner's attributes now ({} when it is no member, e.g. an admin named in the hub's settings). */
  attributes: Attributes,
  /** What the owner's lease policy gives a lease by default now (the hub does not store each lease's privileges). */
  privileges: z.array(PrivilegeSchema).max(64),
  issued: IsoTime,
  expires: IsoTime,
  /** Milliseconds the lease was last given (at issue or at its last renewal). */
  ttl: z.number().int().nonnegative(),
  /** Renewals this hub has served since it started (0 for a lease another hub issued and renews). */
  renewals: z.number().int().nonnegative(),
});
export type LeaseSummary = z.infer<typeof LeaseSummarySchema>;

export const MemberSummarySchema = z.object({
  identifier: Identifier,
  attributes: Attributes,
  enrolledAt: IsoTime,
  /** The last request it sent through a secure channel to this hub, since the hub started; null: none yet. */
  lastSeen: IsoTime.nullable(),
  /** Its leases in the hub's storage. */
  activeLeases: z.number().int().nonnegative(),
});
export type MemberSummary = z.infer<typeof MemberSummarySchema>;

export const HubHealthSchema = z.object({
  /** Whether the lease storage answered the hub's last look (every few seconds while someone subscribes). */
  storage: z.enum(['ok', 'unavailable']),
  storageName: z.string().max(64),
  /** What the storage keeps across a restart, when it says. */
  persistence: z.object({ persists: z.union([z.boolean(), z.literal('unknown')]), detail: z.string().max(512) }).nullable(),
  /** Expiry → revocation, ms, 99th percentile of recent expiries on this hub. */
  latenessP99: z.number().nonnegative(),
  /** Failed revocation attempts since start (each is retried). */
  revocationFailures: z.number().int().nonnegative(),
  insecure: z.boolean(),
  /** What /health warns about (insecure hub, members in memory, storage that persists nothing). */
  warnings: z.array(z.string().max(1024)).max(16),
});
export type HubHealth = z.infer<typeof HubHealthSchema>;

/** Leases issued and revoked in one minute (`minute`: its start), on this hub. */
export const HistoryMinuteSchema = z.object({ minute: IsoTime, issued: z.number().int().nonnegative(), revoked: z.number().int().nonnegative() });
export type HistoryMinute = z.infer<typeof HistoryMinuteSchema>;

export const SnapshotSchema = z.object({
  at: IsoTime,
  /** Leases in storage, soonest expiry first, at most SNAPSHOT_LIMITS.leases. */
  leases: z.array(LeaseSummarySchema).max(SNAPSHOT_LIMITS.leases),
  /** How many leases storage holds in all. */
  leaseCount: z.number().int().nonnegative(),
  /** Members in identifier order, at most SNAPSHOT_LIMITS.members. */
  members: z.array(MemberSummarySchema).max(SNAPSHOT_LIMITS.members),
  /** True when more members exist than `members` lists. */
  moreMembers: z.boolean(),
  health: HubHealthSchema,
  /** The last SNAPSHOT_LIMITS.historyMinutes minutes, oldest first, the current one last. */
  history: z.array(HistoryMinuteSchema).max(SNAPSHOT_LIMITS.historyMinutes),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** Why a lease ended. */
export const RevokeReasonSchema = z.enum(['expired', 'revoked', 'member_removed']);
export type RevokeReason = z.infer<typeof RevokeReasonSchema>;

const SubscriptionId = z.string().regex(/^[0-9a-f]{32}$/, 'subscription must be 32 hex digits');
/** Every event: its subscription, when it happened, its place in the subscription's order. */
const Envelope = { subscription: SubscriptionId, at: IsoTime, seq: z.number().int().positive() };

/** What the hub sends a subscriber, in order, `seq` 1, 2, 3, … per subscription (named in each). */
export const HubEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('lease_issued'), ...Envelope, lease: LeaseSummarySchema }),
  z.object({ event: z.literal('lease_renewed'), ...Envelope, lease: LeaseSummarySchema }),
  z.object({ event: z.literal('lease_revoked'), ...Envelope, id: LeaseId, owner: z.string().max(256), reason: RevokeReasonSchema, lateness: z.number().nonnegative().optional() }),
  z.object({ event: z.literal('member_enrolled'), ...Envelope, member: MemberSummarySchema }),
  z.object({ event: z.literal('member_removed'), ...Envelope, identifier: Identifier }),
  z.object({ event: z.literal('health'), ...Envelope, health: HubHealthSchema }),
  /** Events the subscriber missed: it fell `unacknowledged` behind, or the hub could not keep up. */
  z.object({ event: z.literal('gap'), ...Envelope, dropped: z.number().int().positive() }),
  /** The hub ended the subscription while the channel stays open. */
  z.object({ event: z.literal('ended'), ...Envelope, reason: z.enum(['expired', 'not_admin']) }),
]);
export type HubEvent = z.infer<typeof HubEventSchema>;
/** An event before the hub stamps it with its subscription and `seq`. */
export type HubEventBody = HubEvent extends infer E ? (E extends HubEvent ? Omit<E, 'seq' | 'subscription'> : never) : never;

const RequestId = z.string().max(256).optional();

/** Requests to `hub_events`. */
export const HubEventsRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('subscribe'), request_id: RequestId }),
  /** Keeps the subscription and acknowledges every event up to `seq` (0: none yet). */
  z.object({ action: z.literal('renew'), request_id: RequestId, subscription: SubscriptionId, seq: z.number().int().nonnegative() }),
  z.object({ action: z.literal('unsubscribe'), request_id: RequestId, subscription: SubscriptionId }),
]);
export type HubEventsRequest = z.infer<typeof HubEventsRequestSchema>;
export const HUB_EVENTS_ACTIONS = ['subscribe', 'renew', 'unsubscribe'] as const;

/** The success answers (with `result: "success"` and `request_id` when the request had one). */
export const SubscribedSchema = z.looseObject({ subscription: SubscriptionId, expires_in: z.number().int().positive(), snapshot: SnapshotSchema });
export const RenewedSchema = z.looseObject({ subscription: SubscriptionId, expires_in: z.number().int().positive() });
