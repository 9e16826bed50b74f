import { EventEmitter } from 'node:events';
import { type Clock, ClosedError, describeError, formatRoute, type Logger, type LongTimeout, RetriesExhaustedError, retry, type RetryPolicy, type Route, setLongTimeout, toRoute } from '@tessera/core';
import type { Lease } from '@tessera/token-lease';
import { LeaseRejectedError, LeaseUnavailableError } from './errors.js';
import { type HeldLease, heldFrom } from './held-lease.js';
import { HubApi, isTransient, type LeaseRequester } from './hub-api.js';
import { HubSession } from './hub-session.js';
import { LeaseCache, parseKey } from './lease-cache.js';
import { type LeaseClientOptions, resolveOptions } from './options.js';
import { renewalDelay, type RenewalTiming } from './renewal-timing.js';
import { TokenSink } from './token-sink.js';


/** Renewal refusals that a new lease mends. */
const REPLACE_ON: ReadonlySet<string> = new Set(['not_found', 'invalid_request']);
/** Why a lease became current. */
export type AcquireReason = 'start' | 'cache' | 'replace' | 'auth-failure';

/** What the client was doing when something failed or is retried. */
export type LeaseOperation = 'start' | 'create' | 'renew' | 'revoke' | 'persist';

/** The events of a LeaseClient, each with one payload. Only `lease` carries a token value (`lease.value`); errors never do. */
export interface LeaseClientEvents {
  acquired: { lease: Lease; reason: AcquireReason };
  /** Secure only: a channel to the hub is open (again, after a hub restart or a dropped connection). */
  channel: { hub: string };
  /** Secure only: the enroll token was redeemed; this identity is a member of the hub now. */
  enrolled: { identifier: string; attributes: Readonly<Record<string, string>> };
  renewed: { lease: Lease };
  revoked: { leaseId: string };
  failed: { error: Error; operation: LeaseOperation };
  /** A transient failure; the next attempt follows after `delay` ms. */
  retrying: { operation: LeaseOperation; attempt: number; delay: number; error: Error };
}

export type LeaseClientListener<E extends keyof LeaseClientEvents> = (event: LeaseClientEvents[E]) => void;

/** One request to the hub that concurrent callers share: a renewal, or a new lease replacing `from`. */
interface Flight {
  kind: 'renew' | 'acquire';
  from: HeldLease | undefined;
  /** The lease being replaced failed authentication: revoke it at once, not after the overlap. */
  urgent: boolean;
  promise: Promise<Lease>;
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const noop = (): void => undefined;

/**
 * Keeps a device supplied with a valid lease from a hub's token_lease worker
 * (docs/protocol.md §4): renews it before expiry, replaces it when it cannot be
 * renewed or fails authentication in the cloud, retries transient failures
 * with back-off, and can keep it in an encrypted file and a token file.
 */
export class LeaseClient extends EventEmitter {
  readonly hub: Route;
  private readonly api: HubApi;
  /** The secure channel to the hub, when the client has an identity. */
  private readonly session: HubSession | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly timing: RenewalTiming;
  private readonly retryPolicy: RetryPolicy;
  private readonly overlap: number;
  private readonly ttl: number | undefined;
  private readonly createOptions: Record<string, unknown>;
  private readonly hubText: string;
  private readonly cacheOptions: LeaseClientOptions['cache'];
  private cache: LeaseCache | undefined;
  private readonly sink: TokenSink | undefined;
  /** Aborted on stop: ends every retry wait. */
  private readonly stopped = new AbortController();
  private held: HeldLease | undefined;
  private flight: Flight | undefined;
  private timer: LongTimeout | undefined;
  /** Replaced leases waiting out their overlap before they are revoked. */
  private readonly retiring = new Map<string, unknown>();
  private readonly background = new Set<Promise<void>>();
  private state: State = 'idle';
  private starting: Promise<Lease> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: LeaseClientOptions) {
    super();
    const resolved = resolveOptions(options);
    this.hub = toRoute(options.hub);
    this.hubText = formatRoute(this.hub);
    this.clock = options.clock ?? options.node.clock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? options.node.logger.child({ component: 'lease-client' });
    this.timing = { renewAt: resolved.renewAt, jitter: resolved.jitter };
    this.retryPolicy = resolved.retry;
    this.overlap = resolved.overlap;
    this.ttl = resolved.ttl;
    this.createOptions = resolved.options;
    let send: LeaseRequester;
    if (resolved.secure) {
      const session = new HubSession({
        node: options.node,
        hub: this.hub,
        identity: options.identity!,
        enrollToken: resolved.enrollToken,
        hubIdentifier: resolved.hubIdentifier,
        requestTimeout: resolved.requestTimeout,
        clock: this.clock,
        logger: this.logger,
      });
      session.on('opened', (e) => this.emitSafe('channel', e));
      session.on('enrolled', (e) => this.emitSafe('enrolled', e));
      this.session = session;
      send = (body) => session.request(session.leaseWorker, body);
    } else {
      const node = options.node;
      const hub = this.hub;
      send = (body) => node.request(hub, body, { timeout: resolved.requestTimeout });
    }
    this.api = new HubApi(options.node, send, this.clock);
    if (resolved.cache?.key !== undefined) parseKey(resolved.cache.key, 'cache.key'); // a bad key fails here, not at start()
    this.cacheOptions = resolved.cache;
    this.sink = resolved.sink === undefined ? undefined : new TokenSink(resolved.sink);
  }

  /** The current lease while it is valid (on the client's clock). */
  get lease(): Lease | undefined {
    const held = this.held;
    return held !== undefined && this.clock.now() < held.validUntil ? held.lease : undefined;
  }

  /** The current credential: `lease.value`. */
  get token(): string | undefined {
    return this.lease?.value;
  }

  /** Restores an unexpired cached lease or creates one, and arms renewal. */
  start(): Promise<Lease> {
    if (this.state === 'stopping' || this.state === 'stopped') return Promise.reject(new ClosedError('lease client stopped'));
    if (this.state === 'running' && this.held !== undefined) return Promise.resolve(this.held.lease);
    this.starting ??= this.doStart().catch((err: unknown) => {
      this.starting = undefined;
      if (this.state === 'starting' || this.state === 'running') {
        this.state = 'idle';
        this.disarm();
      }
      this.fail('start', err);
      throw err;
    });
    return this.starting;
  }

  /**
   * For a 401/403 from the cloud: revokes that lease and gets a new one. Every
   * report about the same lease, and every report about one already replaced,
   * shares one request; a report naming a lease that is no longer current
   * resolves with the current one at once.
   */
  async reportAuthFailure(which: Lease | string): Promise<Lease> {
    if (this.state === 'idle' || this.state === 'starting') await this.start();
    for (;;) {
      if (this.state !== 'running') throw new ClosedError('lease client stopped');
      const flight = this.flight;
      if (flight !== undefined) {
        if (flight.kind === 'acquire' && flight.from !== undefined && names(which, flight.from.lease)) {
          flight.urgent = true;
          return flight.promise;
        }
        await flight.promise.catch(noop);
        continue;
      }
      const held = this.held;
      const valid = held !== undefined && this.clock.now() < held.validUntil;
      if (valid && !names(which, held.lease)) return held.lease;
      return this.runFlight('acquire', valid ? held : undefined, 'auth-failure', true);
    }
  }

  /** Stops renewing; with `revoke`, revokes the current lease (and forgets the cached one). */
  stop(options: { revoke?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(options.revoke ?? false);
    return this.stopping;
  }

  private async doStart(): Promise<Lease> {
    this.state = 'starting';
    if (this.cacheOptions !== undefined) this.cache = await LeaseCache.open(this.cacheOptions, this.logger);
    const cached = await this.cache?.load(this.hubText, this.clock.now());
    if (this.state !== 'starting') throw new ClosedError('lease client stopped');
    this.state = 'running';
    if (cached !== undefined) {
      await this.adopt(cached, 'cache');
      return cached.lease;
    }
    return this.acquire(undefined, 'start', undefined);
  }

  private async doStop(revoke: boolean): Promise<void> {
    this.state = 'stopping';
    this.disarm();
    this.stopped.abort(new ClosedError('lease client stopped'));
    await this.starting?.catch(noop);
    await this.flight?.promise.catch(noop);
    const leftOver = [...this.retiring.entries()];
    for (const [, handle] of leftOver) this.clock.clearTimeout(handle);
    this.retiring.clear();
    await Promise.allSettled([...this.background]);
    // replaced leases are not needed once nothing writes with them; the current one only if asked
    const ids = leftOver.map(([id]) => id);
    const held = this.held;
    if (revoke && held !== undefined) ids.push(held.lease.id);
    await Promise.allSettled(ids.map((id) => this.revokeOnce(id)));
    if (revoke && held !== undefined) {
      this.held = undefined;
      await this.cache?.clear().catch((err: unknown) => this.fail('persist', err));
    }
    await Promise.allSettled([this.cache?.idle(), this.sink?.idle()]);
    this.session?.close();
    this.state = 'stopped';
  }

  /** Runs a renewal or a replacement as the one flight every caller shares. */
  private runFlight(kind: Flight['kind'], from: HeldLease | undefined, reason: AcquireReason, urgent: boolean): Promise<Lease> {
    const flight = { kind, from, urgent } as Flight;
    flight.promise = this.fly(flight, reason);
    this.flight = flight;
    return flight.promise;
  }

  private async fly(flight: Flight, reason: AcquireReason): Promise<Lease> {
    try {
      return flight.kind === 'renew' ? await this.renewOrReplace(flight.from!, flight) : await this.acquire(flight.from, reason, flight);
    } catch (err) {
      this.fail(flight.kind === 'renew' ? 'renew' : 'create', err);
      throw err;
    } finally {
      if (this.flight === flight) this.flight = undefined;
      // a failure leaves the timer unarmed, as does a renewal point that came while this flight ran
      if (this.timer === undefined) this.arm(true);
    }
  }

  /** Gets a new lease, makes it current, and retires `from` (at once if urgent, else after the overlap). */
  private async acquire(from: HeldLease | undefined, reason: AcquireReason, flight: Flight | undefined): Promise<Lease> {
    const options = this.ttl === undefined ? this.createOptions : { ...this.createOptions, ttl: this.ttl };
    const received = await this.withRetry('create', () => this.api.create(options));
    const held = heldFrom(received.lease, received.sentAt);
    await this.adopt(held, reason);
    if (from !== undefined && from.lease.id !== held.lease.id) this.retire(from.lease.id, flight?.urgent ?? false);
    return held.lease;
  }

  /** Renews `from`; if the hub refuses for good (not renewable, maximum TTL, not found), replaces it. */
  private async renewOrReplace(from: HeldLease, flight: Flight): Promise<Lease> {
    let received;
    try {
      received = await this.withRetry('renew', () => this.api.renew(from.lease.id, this.ttl));
    } catch (err) {
      // for good: the lease is gone, or cannot be renewed (not renewable, expired, maximum TTL);
      // a quota or a refusal would meet a create too, and a busy hub is no reason to ask for more
      if (!(err instanceof LeaseRejectedError) || !REPLACE_ON.has(err.reason)) throw err;
      this.logger.info({ lease: from.lease.id, reason: err.message }, 'renewal refused; replacing the lease');
      flight.kind = 'acquire';
      return this.acquire(from, 'replace', flight);
    }
    // a renewal cut short by the maximum TTL is the last one: replace the lease next time
    const capped = received.lease.ttl < (this.ttl ?? from.fullTtl);
    const held = heldFrom(received.lease, received.sentAt, from.fullTtl, received.lease.renewable && !capped);
    this.held = held;
    this.arm();
    await this.persist(held, true);
    this.logger.info({ lease: held.lease.id, ttl: held.lease.ttl, last: capped }, 'lease renewed');
    this.emitSafe('renewed', { lease: held.lease });
    return held.lease;
  }

  /** Makes `held` current, writes it out, arms its renewal, tells listeners. */
  private async adopt(held: HeldLease, reason: AcquireReason): Promise<void> {
    this.held = held;
    this.arm();
    await this.persist(held, reason !== 'cache');
    this.logger.info({ lease: held.lease.id, ttl: held.lease.ttl, renewable: held.renewable, reason }, 'lease acquired');
    this.emitSafe('acquired', { lease: held.lease, reason });
  }

  /** Token file and cache; a failure to write is reported, never thrown: the lease itself is fine. */
  private async persist(held: HeldLease, toCache: boolean): Promise<void> {
    const writes: Promise<void>[] = [];
    if (this.sink !== undefined) writes.push(this.sink.write(held.lease.value));
    if (toCache && this.cache !== undefined) writes.push(this.cache.save(this.hubText, held));
    for (const result of await Promise.allSettled(writes)) {
      if (result.status === 'rejected') this.fail('persist', result.reason);
    }
  }

  /** Revokes a replaced lease: at once, or once in-flight writes with it have had `overlap` ms to finish. */
  private retire(id: string, urgent: boolean): void {
    if (urgent) {
      this.track(this.revokeWithRetry(id));
      return;
    }
    const handle = this.clock.setTimeout(() => {
      this.retiring.delete(id);
      this.track(this.revokeWithRetry(id));
    }, this.overlap);
    this.retiring.set(id, handle);
  }

  private async revokeWithRetry(id: string): Promise<void> {
    try {
      const outcome = await this.withRetry('revoke', () => this.api.revoke(id));
      this.revoked(id, outcome);
    } catch (err) {
      this.fail('revoke', err);
    }
  }

  private async revokeOnce(id: string): Promise<void> {
    try {
      this.revoked(id, await this.api.revoke(id));
    } catch (err) {
      this.fail('revoke', err);
    }
  }

  private revoked(id: string, outcome: 'revoked' | 'gone'): void {
    this.logger.info({ lease: id, outcome }, 'lease revoked');
    this.emitSafe('revoked', { leaseId: id });
  }

  private track(job: Promise<void>): void {
    this.background.add(job);
    void job.finally(() => this.background.delete(job));
  }

  /** Runs `attempt`, retrying transient failures; when they outlast the policy, LeaseUnavailableError. */
  private async withRetry<T>(operation: LeaseOperation, attempt: () => Promise<T>): Promise<T> {
    try {
      return await retry(attempt, {
        policy: this.retryPolicy,
        clock: this.clock,
        random: this.random,
        signal: this.stopped.signal,
        shouldRetry: (err) => isTransient(err) && this.api.nodeRunning(),
        onRetry: (n, delay, err) => {
          const error = asError(err);
          this.logger.debug({ operation, attempt: n, delay, err: describeError(error) }, 'hub unavailable; retrying');
          this.emitSafe('retrying', { operation, attempt: n, delay, error });
        },
      });
    } catch (err) {
      if (!(err instanceof RetriesExhaustedError)) throw err;
      const last = describeError(err.cause).message;
      throw new LeaseUnavailableError(`lease ${operation}: hub unavailable after ${err.attempts} attempts (last: ${last})`, err.attempts, { cause: err.cause });
    }
  }

  /** Arms the next refresh: at the renewal point of the current lease, or after a failure a little later. */
  private arm(afterFailure = false): void {
    this.disarm();
    if (this.state !== 'running') return;
    const now = this.clock.now();
    const held = this.held;
    let delay: number;
    if (held === undefined || held.validUntil <= now) {
      delay = afterFailure ? this.retryPolicy.maxDelay : 0;
    } else {
      delay = renewalDelay(held.validUntil - now, this.timing, this.random);
      if (afterFailure) delay = Math.max(delay, this.retryPolicy.initialDelay);
    }
    this.timer = setLongTimeout(
      this.clock,
      () => {
        this.timer = undefined;
        this.refresh();
      },
      delay,
    );
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The renewal point: renew a renewable lease, replace any other (or get one, if it expired meanwhile). */
  private refresh(): void {
    if (this.state !== 'running' || this.flight !== undefined) return; // the flight re-arms when it ends
    const held = this.held;
    const valid = held !== undefined && this.clock.now() < held.validUntil;
    const job = valid && held.renewable ? this.runFlight('renew', held, 'replace', false) : this.runFlight('acquire', valid ? held : undefined, 'replace', false);
    job.catch(noop); // reported as `failed` by runFlight
  }

  private fail(operation: LeaseOperation, err: unknown): void {
    if ((this.state === 'stopping' || this.state === 'stopped') && err instanceof ClosedError) return;
    const error = asError(err);
    this.logger.warn({ operation, err: describeError(error) }, 'lease operation failed');
    this.emitSafe('failed', { error, operation });
  }

  override on<E extends keyof LeaseClientEvents>(event: E, listener: LeaseClientListener<E>): this {
    return super.on(event, listener);
  }

  override once<E extends keyof LeaseClientEvents>(event: E, listener: LeaseClientListener<E>): this {
    return super.once(event, listener);
  }

  override off<E extends keyof LeaseClientEvents>(event: E, listener: LeaseClientListener<E>): this {
    return super.off(event, listener);
  }

  /** Emits without letting a listener that throws break the client. */
  private emitSafe<E extends keyof LeaseClientEvents>(event: E, payload: LeaseClientEvents[E]): void {
    try {
      this.emit(event, payload);
    } catch (err) {
      this.logger.error({ event, err: describeError(err) }, 'a lease client listener threw');
    }
  }
}

/** Whether a report (a lease, its id or its token) names `lease`. */
function names(which: Lease | string, lease: Lease): boolean {
  return typeof which === 'string' ? which === lease.id || which === lease.value : which.id === lease.id;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describeError(err).message);
}
