import type { Clock, Logger, Node, RetryPolicy, Route } from '@tessera/core';
import type { Signer } from '@tessera/secure-channel';
import { z } from 'zod';
import { InvalidOptionsError } from '@tessera/token-lease';

export interface LeaseClientOptions {
  /** A running Node with a transport that reaches the hub (a WebSocketTransport). */
  node: Node;
  /** Route to the hub's token_lease worker, e.g. `route('3#127.0.0.1:4000', 'token_lease')`, or its text form. */
  hub: Route | string;
  /**
   * Our identity (docs/protocol.md §5): requests then go through a secure channel to the hub's
   * `secure_channel` listener (same transport hops as `hub`), and the lease is this identity's.
   */
  identity?: Signer;
  /** A bootstrap token (§6), redeemed once if the hub does not know `identity` yet; never logged. */
  enrollToken?: string;
  /** Trust only the hub with this identifier (`I…`); without it any hub that answers is trusted (one warning). */
  hubIdentifier?: string;
  /** Go through a secure channel (default: true when `identity` is given; true without one is an error). */
  secure?: boolean;
  /** Requested ttl in ms; omitted → the hub's default. */
  ttl?: number;
  /** Extra create options for the cloud service (e.g. InfluxDB `permissions`). */
  options?: Record<string, unknown>;
  /** Fraction of the remaining time at which to renew (default 2/3, as Vault's LifetimeWatcher). */
  renewAt?: number;
  /** ± fraction applied to the renewal point (default 0.1). */
  jitter?: number;
  /** ms a replaced lease stays valid before it is revoked, so in-flight writes finish (default 5,000). */
  overlap?: number;
  /** Timeout of each request to the hub, ms (default 5,000). */
  requestTimeout?: number;
  /** Retries of transient failures: default 200 ms doubling to 10 s (±20 %), 6 attempts in all. */
  retry?: { initialDelay?: number; maxDelay?: number; maxAttempts?: number; factor?: number; jitter?: number };
  /** Keep the lease in an AES-256-GCM encrypted file, so a restart needs no new token. */
  cache?: { path: string; key?: string; keyFile?: string };
  /** A file that always holds the current token and a newline (mode 0600). */
  sink?: string;
  /** Default: the node's clock. */
  clock?: Clock;
  /** Default: Math.random. */
  random?: () => number;
  /** Default: a child of the node's logger. */
  logger?: Logger;
}

/** 200 ms doubling to 10 s, ±20 %, 6 attempts (about 6 s of waiting, plus the request timeouts). */
export const DEFAULT_RETRY: RetryPolicy = { initialDelay: 200, maxDelay: 10_000, factor: 2, jitter: 0.2, maxAttempts: 6 };

const Fraction = z.number().gt(0).lt(1);
const Ms = z.number().int().nonnegative();

const NumbersSchema = z
  .object({
    ttl: z.number().int().positive().optional(),
    options: z.record(z.string(), z.unknown()).default({}),
    renewAt: Fraction.default(2 / 3),
    jitter: z.number().min(0).lt(1).default(0.1),
    overlap: Ms.default(5_000),
    requestTimeout: z.number().int().positive().default(5_000),
    retry: z
      .object({
        initialDelay: z.number().int().positive().default(DEFAULT_RETRY.initialDelay),
        maxDelay: z.number().int().positive().default(DEFAULT_RETRY.maxDelay),
        maxAttempts: z.number().int().positive().default(DEFAULT_RETRY.maxAttempts),
        factor: z.number().min(1).default(DEFAULT_RETRY.factor),
        jitter: z.number().min(0).max(1).default(DEFAULT_RETRY.jitter),
      })
      .default(DEFAULT_RETRY),
    cache: z
      .object({ path: z.string().min(1), key: z.string().optional(), keyFile: z.string().min(1).optional() })
      .refine((c) => (c.key === undefined) !== (c.keyFile === undefined), { message: 'give exactly one of key and keyFile' })
      .optional(),
    sink: z.string().min(1).optional(),
    secure: z.boolean(),
    // no value in a message: it is a secret
    enrollToken: z.string().min(1, 'must not be empty').max(4096, 'is too long').optional(),
    hubIdentifier: z.string().regex(/^I[0-9a-f]{64}$/, 'must be an identifier: I and 64 lowercase hex digits').optional(),
  })
  .refine((o) => o.secure || (o.enrollToken === undefined && o.hubIdentifier === undefined), {
    message: 'enrollToken and hubIdentifier need a secure channel (an identity)',
    path: ['secure'],
  })
  .refine((o) => o.renewAt * (1 + o.jitter) < 1, { message: 'renewAt × (1 + jitter) must be below 1, or renewal could come after expiry', path: ['renewAt'] })
  .refine((o) => o.retry.initialDelay <= o.retry.maxDelay, { message: 'retry.initialDelay must not exceed retry.maxDelay', path: ['retry'] });

export type ResolvedLeaseClientOptions = z.output<typeof NumbersSchema>;

/** Checks the plain-data options; a mistake names the option. */
export function resolveOptions(options: LeaseClientOptions): ResolvedLeaseClientOptions {
  if (typeof options?.node?.request !== 'function') throw new InvalidOptionsError('invalid LeaseClient option node: a @tessera/core Node is required');
  if (options.secure === true && options.identity === undefined) throw new InvalidOptionsError('invalid LeaseClient option secure: a secure channel needs an identity');
  const result = NumbersSchema.safeParse({
    ttl: options.ttl,
    options: options.options,
    renewAt: options.renewAt,
    jitter: options.jitter,
    overlap: options.overlap,
    requestTimeout: options.requestTimeout,
    retry: options.retry ?? undefined,
    cache: options.cache,
    sink: options.sink,
    secure: options.secure ?? options.identity !== undefined,
    enrollToken: options.enrollToken,
    hubIdentifier: options.hubIdentifier,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    throw new InvalidOptionsError(`invalid LeaseClient option ${path === '' ? '(options)' : path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
