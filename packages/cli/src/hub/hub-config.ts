import { MAX_CREDENTIAL_TTL } from '@tessera/authority';
import { DeploymentSchema } from '@tessera/cloud-influxdb';
import { IDENTIFIER_PATTERN } from '@tessera/secure-channel';
import { LeasePoliciesSchema } from '@tessera/token-lease';
import { z } from 'zod';
import { BooleanSetting, WholeNumberSetting } from '../settings/values.js';

const HostPort = z.string().regex(/^(?:\[[^\]]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:4000');
const Ms = WholeNumberSetting.pipe(z.number().positive('must be positive'));
const Count = WholeNumberSetting.pipe(z.number().nonnegative('must not be negative'));
/** A bucket (a database for influxdb-v1) and what a lease may do on it, besides the default write on --influx-bucket. */
const GrantEntry = z
  .object({
    // eslint-disable-next-line no-control-regex
    bucket: z.string().min(1).max(255).refine((b) => !/[\u0000-\u001f\u007f]/.test(b), 'must not contain control characters'),
    actions: z.array(z.enum(['read', 'write'])).min(1).max(2),
  })
  .strict();

/** Everything `tessera hub` (and `startHub`) needs; each field also has a command-line flag and an env variable. */
export const HubConfigSchema = z
  .object({
    /** Where the WebSocket listener binds. */
    listen: HostPort.default('127.0.0.1:4000'),
    /** `memory`, `memory:/path/to/snapshot.json`, a `redis://` / `rediss://` URL, `redis+cluster://h:p,...` or `redis+sentinel://h:p,.../<master>` (docs/operations.md, Redis topologies). */
    storage: z
      .string()
      .regex(/^(memory(:.+)?|rediss?:\/\/.*|redis\+(cluster|sentinel):\/\/.+)$/, 'expected memory, memory:<snapshot file>, a redis:// URL, redis+cluster://host:port,... or redis+sentinel://host:port,.../<master name>')
      .default('memory'),
    cloud: z.enum(['influxdb-v2', 'influxdb-v1']).default('influxdb-v2'),
    /** InfluxDB URL; none: an influxdb-local is started in-process (influxdb-v2 only). */
    influxUrl: z.url({ protocol: /^https?$/ }).optional(),
    influxOrg: z.string().min(1).default('tessera'),
    influxBucket: z.string().min(1).default('tessera'),
    /** What else a lease may be granted when its request names it (docs/lease-api.md, Grants); by default only write on influxBucket. */
    grants: z.array(GrantEntry, { error: 'expected a list of {bucket, actions: [read|write]}' }).max(100).default([]),
    /** Leases one owner may hold at once, creates under way included; 0: no limit. */
    maxLeasesPerOwner: Count.default(100),
    /** Creates one owner may make per minute (a burst of this many, then one every 60/n s); 0: no limit. */
    createsPerMinute: Count.default(60),
    /** Requests of one owner the lease worker handles at once (fair share of its 256). */
    ownerConcurrency: WholeNumberSetting.pipe(z.number().min(1, 'must be at least 1')).default(8),
    /** Requests one identity may send per second on a secure hub (a burst of twice that), refused before its membership is looked up; 0: no limit. */
    identityRequestRate: Count.default(100),
    defaultTtl: Ms.default(3_600_000),
    minTtl: Ms.default(1_000),
    maxTtl: Ms.default(86_400_000),
    /** WebSocket connections the listener holds at once, upgrades under way included; one more gets HTTP 503. */
    maxConnections: WholeNumberSetting.pipe(z.number().min(1, 'must be at least 1').max(1_000_000)).default(4_096),
    /** Largest WebSocket message a peer may send, in bytes (close 1009 beyond): lease requests are small, and what a peer makes the hub buffer is bounded by it. */
    maxMessageSize: WholeNumberSetting.pipe(z.number().min(1_024, 'must be at least 1024').max(64 << 20)).default(256 << 10),
    /** Milliseconds a TCP connection may take to finish its WebSocket upgrade (slowloris). */
    handshakeTimeout: Ms.default(10_000),
    /** Milliseconds a peer may leave what we send unread (our buffer over its high-water mark) before it is dropped. */
    slowPeerTimeout: Ms.default(30_000),
    /** Milliseconds a peer may stay silent (no message, ping or pong; the hub pings every third of it) before its connection is closed. */
    livenessTimeout: Ms.default(30_000),
    /** Health and Prometheus metrics endpoint, host:port; off when unset. */
    metrics: HostPort.optional(),
    /** Accept anonymous callers, who then share one owner and see every lease (development only): no secure channels, no enrollment. */
    insecure: BooleanSetting.default(false),
    /** The hub's identity file (created on first start, mode 0600); it signs members' credentials. Default: hub-identity.json in the state directory. */
    identity: z.string().min(1).optional(),
    /** Identifiers that are admins (create bootstrap tokens, list and remove members, see every lease), whether or not they are members. */
    admin: z.array(z.string().regex(IDENTIFIER_PATTERN, 'expected an identifier: I followed by 64 lowercase hex digits')).max(100).default([]),
    /** Lifetime of the credentials the hub issues, ms; at most 7 days (a removed member's credential stays valid elsewhere until it expires). */
    credentialTtl: WholeNumberSetting.pipe(
      z.number().min(1_000, 'must be at least 1000').max(MAX_CREDENTIAL_TTL, `must be at most ${MAX_CREDENTIAL_TTL} (7 days)`),
    ).default(3_600_000),
    /** What members may get, by their attributes (docs/security.md, Policies); none: every member gets the hub's default grant. */
    policies: LeasePoliciesSchema.optional(),
    /** Let messages from peers hop on to other WS addresses through this hub (off: nobody can make it dial out). */
    forward: BooleanSetting.default(false),
    /** LOCAL address of the lease worker. */
    address: z.string().min(1).default('token_lease'),
    /** Whose tokens this hub creates and sweeps for orphans; default derived from the storage (hub/deployment.ts). */
    deployment: DeploymentSchema.optional(),
    /** Also sweep tokens made before deployments existed (no deployment in their marker). */
    adoptLegacyTokens: BooleanSetting.default(false),
    /** A token without a lease younger than this (ms) is not revoked yet: another hub may be about to store it. */
    orphanGrace: WholeNumberSetting.pipe(z.number().nonnegative('must not be negative')).default(30_000),
    /**
     * How often (ms) the hub sweeps the cloud for tokens without a lease (besides at start and after Redis lost its
     * data): how long a lease lost in a Redis failover can leave its token valid. Each sweep lists every token of the
     * org and every lease.
     */
    reconcileEvery: WholeNumberSetting.pipe(z.number().min(1_000, 'must be at least 1000')).default(300_000),
    /** Log level. */
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .strict()
  .refine((c) => c.minTtl <= c.defaultTtl && c.defaultTtl <= c.maxTtl, {
    message: 'TTLs must satisfy min-ttl <= default-ttl <= max-ttl',
    path: ['defaultTtl'],
  })
  .refine((c) => c.cloud !== 'influxdb-v1' || c.influxUrl !== undefined, {
    message: 'influxdb-v1 needs --influx-url (no local 1.x server is started)',
    path: ['influxUrl'],
  });
export type HubConfig = z.output<typeof HubConfigSchema>;
export type HubConfigInput = z.input<typeof HubConfigSchema>;
