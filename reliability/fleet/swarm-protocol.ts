// What a scenario tells a device swarm (reliability/fleet/device-swarm.ts, a child process)
// and what the swarm reports back: its config as JSON in FLEET_CONFIG, commands as JSON
// lines on its stdin, reports as JSON lines on its stdout. No line ever holds a secret:
// the enroll token comes in FLEET_ENROLL_TOKEN, lease values go to a 0600 file.
import { z } from 'zod';

/** The requests a device makes: the lease API's actions and a write to InfluxDB with the lease's token. */
export const ACTIONS = ['create', 'get', 'renew', 'revoke', 'write'] as const;
export type Action = (typeof ACTIONS)[number];

const Ms = z.number().int().nonnegative();

/** A device's work: lease lifecycles at a human pace, or creates as fast as it can (one member flooding). */
export const BehaviourSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('lifecycle'),
    /** The ttl each lease is asked for. */
    ttl: z.number().int().min(1_000),
    /** Renewals of a lease (each after a `get`) before it ends. */
    renewals: z.number().int().min(0).max(100),
    /** How a lease ends: the device revokes it, or forgets it and lets the hub revoke it at expiry. */
    end: z.enum(['revoke', 'expire']),
    /** Pause before each request, drawn evenly from [min, max] ms. */
    thinkMs: z.tuple([Ms, Ms]),
    /** Write one point to InfluxDB with each new lease's token. */
    write: z.boolean(),
  }),
  z.strictObject({
    kind: z.literal('flood'),
    /** Creates in flight at once, each started as soon as the one before it is answered. */
    inFlight: z.number().int().min(1).max(256),
    ttl: z.number().int().min(1_000),
  }),
]);
export type Behaviour = z.infer<typeof BehaviourSchema>;

export const SwarmConfigSchema = z.strictObject({
  /** The hub, `ws://127.0.0.1:<port>`. */
  hub: z.string().regex(/^ws:\/\/127\.0\.0\.1:\d{1,5}$/, 'a loopback ws:// URL'),
  hubIdentifier: z.string().regex(/^I[0-9a-f]{64}$/),
  /** influxdb-local, for writes with a lease's token. */
  influx: z.strictObject({ url: z.string().regex(/^http:\/\/127\.0\.0\.1:\d{1,5}$/, 'a loopback http:// URL'), org: z.string().min(1), bucket: z.string().min(1) }),
  /** Holds `identities/<device>.json` (kept across runs: a restarted swarm is the same devices) and `secrets/`. */
  dir: z.string().min(1),
  /** This swarm's number: names its secrets file. */
  swarm: z.number().int().nonnegative(),
  /** Devices `d<first>` … `d<first + devices - 1>`. */
  first: z.number().int().nonnegative(),
  devices: z.number().int().min(1).max(2_000),
  behaviour: BehaviourSchema,
  /** How long a device waits for each answer (HubSession's requestTimeout), ms. */
  requestTimeout: z.number().int().min(100).max(60_000),
  /** Devices opening their channel (and enrolling) at once. */
  connectConcurrency: z.number().int().min(1).max(1_000),
  /** The swarm ends by itself this long after it started, whatever it was told. */
  maxMs: z.number().int().min(1_000).max(3 * 3_600_000),
  /** How often samples are reported, ms. */
  flushMs: z.number().int().min(50).max(10_000),
});
export type SwarmConfig = z.infer<typeof SwarmConfigSchema>;

/** Commands on the swarm's stdin, one JSON object a line. */
export const SwarmCommandSchema = z.discriminatedUnion('cmd', [
  /** Start (or resume) the devices' work. */
  z.strictObject({ cmd: z.literal('go') }),
  /** Halt the work, each device after the request it is making, until the next `go`. */
  z.strictObject({ cmd: z.literal('pause') }),
  /** End the work; with `revoke`, each device then revokes the lease it holds; then report `done` and exit. */
  z.strictObject({ cmd: z.literal('stop'), revoke: z.boolean() }),
]);
export type SwarmCommand = z.infer<typeof SwarmCommandSchema>;

/**
 * One request as a device saw it: [started (epoch ms), action, outcome, latency ms, device number]. The
 * outcome is `ok`, the hub's failure code (`unavailable`, `quota_exceeded`, …), `http_<status>`
 * for a write InfluxDB refused, or the name of the error the request ended with
 * (`TimeoutError`: no answer within the request timeout).
 */
export const SampleSchema = z.tuple([z.number(), z.enum(ACTIONS), z.string().min(1).max(64), z.number().nonnegative(), z.number().int().nonnegative()]);
export type Sample = z.infer<typeof SampleSchema>;

/**
 * What happened to a device: `enrolled` (it redeemed the bootstrap token), `resumed` (its first
 * success on the lease it held after a run of failures), `expired` (the hub no longer knew a lease
 * whose expiry had passed: revoked at expiry), `lost` (the hub did not know a lease the device held
 * before its expiry), `refused` (the hub refused the device for good: not a member, token refused).
 */
export const EVENT_KINDS = ['enrolled', 'resumed', 'expired', 'lost', 'refused'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const SwarmLineSchema = z.discriminatedUnion('type', [
  /** The swarm read its config and is connecting its devices. */
  z.strictObject({ type: z.literal('started'), swarm: z.number() }),
  /** Every device has a channel open and a credential (enrolled if it was not a member). */
  z.strictObject({ type: z.literal('ready'), swarm: z.number(), devices: z.number(), failed: z.number(), ms: z.number() }),
  z.strictObject({ type: z.literal('samples'), swarm: z.number(), s: z.array(SampleSchema) }),
  z.strictObject({ type: z.literal('event'), swarm: z.number(), kind: z.enum(EVENT_KINDS), device: z.string(), t: z.number(), lease: z.string().optional(), detail: z.string().max(500).optional() }),
  /** The swarm stopped: `held` devices still held a lease (after revoking, if told to). */
  z.strictObject({ type: z.literal('done'), swarm: z.number(), held: z.number() }),
]);
export type SwarmLine = z.infer<typeof SwarmLineSchema>;
