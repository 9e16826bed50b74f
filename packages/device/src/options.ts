import { routeTo } from '@tessera/transport-ws';
import { AddressSchema, type BackoffPolicy, type Clock, InvalidAddressError, type Logger, type Node, route, type Route } from '@tessera/core';
import type { Signer } from '@tessera/secure-channel';
import { z } from 'zod';
import { DeviceOptionsError } from './errors.js';

/** How to start a device (see `startDevice`). */
export interface DeviceOptions {
  /** The hub: `ws://host:port`, `host:port`, or a whole route to its lease worker. */
  hub: string | Route;
  /** Tags every point (`device=<id>`). */
  deviceId: string;
  /** InfluxDB base URL, e.g. `http://127.0.0.1:8086`. */
  influxUrl: string;
  org: string;
  bucket: string;
  /** Milliseconds between points (default 1,000). */
  interval?: number;
  /** TTL to ask for, in ms (default: the hub's). */
  ttl?: number;
  /** Cloud options for the lease request (e.g. InfluxDB `permissions`); default: the hub's. */
  leaseOptions?: Record<string, unknown>;
  /**
   * The device's identity (docs/protocol.md §5; e.g. `loadOrCreateIdentity(file)`): lease requests
   * then go through a secure channel to the hub and the device's leases are this identity's.
   * Without it, requests go in plaintext (an insecure hub).
   */
  identity?: Signer;
  /** A bootstrap token (§6) the first start redeems; later starts need only the identity. Never logged. */
  enrollToken?: string;
  /** Trust only the hub with this identifier (`I…`); without it, any hub that answers (a warning is logged). */
  hubIdentifier?: string;
  /** LOCAL address of the lease worker on the hub, when `hub` is not a route (default `token_lease`). */
  leaseWorker?: string;
  /** A running Node (with a WebSocket transport) to use; by default the device makes its own. */
  node?: Node;
  /** Drives the interval, the timestamps and the back-off waits (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
  /** Measurement name (default `device_metrics`). */
  measurement?: string;
  /** Keep the lease in an encrypted file so a restart does not need a new token (LeaseClient's `cache`). */
  cache?: { path: string; key?: string; keyFile?: string };
  /** A file the LeaseClient keeps the current token in (mode 0600), for programs that are not Node (its `sink`). */
  sink?: string;
  /** The metric: the value of point `seq` at time `now` (default: a slow sine around 20). */
  sample?: (seq: number, now: number) => number;
  /** Most points written in one request when catching up (default 500). */
  batchSize?: number;
  /** Points kept while InfluxDB cannot take them; past this the oldest are dropped and counted lost (default 86,400). */
  maxPending?: number;
  /** Waits between retries of a write that failed for a transient reason (default 1 s doubling to 30 s, ±20 %). */
  retry?: BackoffPolicy;
  /** InfluxDB request timeout in ms (default 10,000). */
  requestTimeout?: number;
  /**
   * Revoke the lease on `stop()`: by default yes (a stopped device leaves no live token behind),
   * unless `cache` is set, whose point is to take the lease up again after a restart.
   */
  revokeOnStop?: boolean;
}

const positiveInt = z.number().int().positive();
const SignerSchema = z.custom<Signer>(
  (v) => typeof v === 'object' && v !== null && (v as { publicKey?: unknown }).publicKey instanceof Uint8Array && isFunction((v as { sign?: unknown }).sign),
  'identity must be a Signer (publicKey and sign)',
);
const isFunction = (v: unknown) => typeof v === 'function';

const ClockSchema = z.custom<Clock>(
  (v) => typeof v === 'object' && v !== null && ['now', 'setTimeout', 'clearTimeout'].every((k) => isFunction((v as Record<string, unknown>)[k])),
  'clock must have now, setTimeout and clearTimeout',
);
const LoggerSchema = z.custom<Logger>(
  (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error', 'child'].every((k) => isFunction((v as Record<string, unknown>)[k])),
  'logger must have debug, info, warn, error and child',
);
// Duck-typed rather than instanceof: two copies of @tessera/core must still work together.
const NodeSchema = z.custom<Node>(
  (v) => typeof v === 'object' && v !== null && ['request', 'send', 'startWorker', 'stop'].every((k) => isFunction((v as Record<string, unknown>)[k])),
  'node must be a @tessera/core Node',
);

export const DeviceOptionsSchema = z
  .object({
    hub: z.union([z.string().trim().min(1), z.array(AddressSchema).min(1)]),
    deviceId: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\p{Cc}\\]+$/u, 'no control characters or backslashes'),
    influxUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    org: z.string().min(1),
    bucket: z.string().min(1),
    interval: positiveInt.default(1_000),
    ttl: positiveInt.optional(),
    leaseOptions: z.record(z.string(), z.unknown()).optional(),
    leaseWorker: z.string().min(1).default('token_lease'),
    identity: SignerSchema.optional(),
    // never the value in a message: it is a secret
    enrollToken: z.string().min(1, 'must not be empty').max(4096, 'is too long').optional(),
    hubIdentifier: z.string().regex(/^I[0-9a-f]{64}$/, 'must be an identifier: I and 64 lowercase hex digits').optional(),
    node: NodeSchema.optional(),
    clock: ClockSchema.optional(),
    logger: LoggerSchema.optional(),
    measurement: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\p{Cc}\\]+$/u, 'no control characters or backslashes')
      .default('device_metrics'),
    cache: z.object({ path: z.string().min(1), key: z.string().min(1).optional(), keyFile: z.string().min(1).optional() }).strict().optional(),
    sink: z.string().min(1).optional(),
    sample: z.custom<(seq: number, now: number) => number>(isFunction, 'sample must be a function').optional(),
    batchSize: positiveInt.max(5_000).default(500),
    maxPending: positiveInt.default(86_400),
    retry: z
      .object({ initialDelay: z.number().nonnegative(), maxDelay: z.number().nonnegative(), factor: z.number().min(1), jitter: z.number().min(0).max(1) })
      .strict()
      .default({ initialDelay: 1_000, maxDelay: 30_000, factor: 2, jitter: 0.2 }),
    requestTimeout: positiveInt.default(10_000),
    revokeOnStop: z.boolean().optional(),
  })
  .strict()
  .refine((o) => o.identity !== undefined || (o.enrollToken === undefined && o.hubIdentifier === undefined), {
    message: 'enrollToken and hubIdentifier need an identity (a secure channel to the hub)',
    path: ['identity'],
  });

export type ResolvedDeviceOptions = Omit<z.output<typeof DeviceOptionsSchema>, 'hub' | 'revokeOnStop'> & { hub: Route; revokeOnStop: boolean };

/** Validates options, fills in defaults and turns `hub` into the route to the lease worker. */
export function resolveDeviceOptions(input: DeviceOptions): ResolvedDeviceOptions {
  const parsed = DeviceOptionsSchema.safeParse(input);
  if (!parsed.success) throw new DeviceOptionsError(`invalid device options: ${z.prettifyError(parsed.error)}`);
  const { hub, revokeOnStop, ...rest } = parsed.data;
  try {
    return {
      ...rest,
      hub: typeof hub === 'string' ? leaseRoute(hub, rest.leaseWorker) : route(...hub),
      revokeOnStop: revokeOnStop ?? rest.cache === undefined,
    };
  } catch (err) {
    if (err instanceof InvalidAddressError) throw new DeviceOptionsError(`invalid device options: hub: ${err.message}`);
    throw err;
  }
}

/** The route to a hub's lease worker from `ws://host:port`, `host:port` or a route. */
export function leaseRoute(hub: string, worker = 'token_lease'): Route {
  return routeTo(hub, worker);
}
