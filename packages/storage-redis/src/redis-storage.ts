import { randomBytes } from 'node:crypto';
import {
  InvalidOptionsError,
  StorageNotInitialisedError,
  StorageUnavailableError,
  type LeaseClaim,
  type LeaseRecord,
  type RevocationState,
  type StorageDurability,
  type StorageNamespace,
  type StorageService,
} from '@tessera/token-lease';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { decodeRecord, encodeRecord, encodeRevocation } from './codec.js';
import { redisDurability } from './durability.js';
import { isAuthError, isDisconnected, redact, unavailable, type FailureContext } from './errors.js';
import { KeyLayout } from './keys.js';
import { resolveOptions, type RedisStorageOptions, type ResolvedOptions } from './options.js';
import { SCRIPTS, type ScriptCommands } from './scripts.js';

/** `connecting` until first ready; `unavailable` while reconnecting; `closed` after close(). */
export type RedisStorageStatus = 'idle' | 'connecting' | 'ready' | 'unavailable' | 'closed';

/** A StorageService on Redis, plus a view of its connection. */
export interface RedisStorage extends StorageService {
  readonly name: 'redis';
  readonly status: RedisStorageStatus;
  /** Resolves once Redis is connected (at once if it is); a StorageUnavailableError after `timeoutMs` (default connectTimeoutMs). */
  ready(timeoutMs?: number): Promise<void>;
  /** What Redis keeps across a restart (CONFIG GET appendonly, appendfsync, save), as read at init and after each reconnect. */
  durability(): StorageDurability | undefined;
  /** Calls `listener` each time Redis comes back without the data it held; returns a function that stops the calls. */
  onDataLoss(listener: () => void): () => void;
}

// Cluster has the same command API; typing it as Redis keeps overloads resolvable.
type Client = Redis & ScriptCommands;

/** The StorageService on Redis (`redis`): Cluster-ready keys, atomic Lua claims, fail-fast when Redis is down. */
export function redisStorage(options: RedisStorageOptions): RedisStorage {
  return new RedisLeaseStorage(resolveOptions(options));
}

class RedisLeaseStorage implements RedisStorage {
  readonly name = 'redis' as const;
  private client: Client | undefined;
  private keys: KeyLayout | undefined;
  private namespace: StorageNamespace | undefined;
  private initializing: Promise<void> | undefined;
  private state: RedisStorageStatus = 'idle';
  private everReady = false;
  /** A request found the connection gone before the client's own events said so. */
  private lost = false;
  /** The epoch recorded in the meta hash when last read: another value means the data was lost. */
  private epoch: string | null | undefined;
  private lastDurability: StorageDurability | undefined;
  private readonly lossListeners = new Set<() => void>();
  private readonly failure: FailureContext;

  constructor(private readonly options: ResolvedOptions) {
    this.failure = { where: options.where, secrets: options.secrets, commandTimeoutMs: options.commandTimeoutMs, lastError: undefined };
  }

  get status(): RedisStorageStatus {
    // Read the client itself: its events arrive a tick after the change.
    if (this.state === 'closed' || this.state === 'idle' || this.client === undefined) return this.state;
    if (this.client.status === 'ready' && !this.lost) return 'ready';
    return this.everReady ? 'unavailable' : 'connecting';
  }

  async init(namespace: StorageNamespace): Promise<void> {
    if (this.state === 'closed') throw new StorageUnavailableError('redis storage is closed');
    if (this.initializing !== undefined) {
      await this.initializing.catch(() => undefined);
    }
    if (this.namespace !== undefined) {
      if (namespace.cloudService === this.namespace.cloudService && namespace.cloudServiceAddress === this.namespace.cloudServiceAddress) return;
      throw new InvalidOptionsError('redis storage is already initialised for another namespace');
    }
    this.initializing = this.start(namespace);
    try {
      await this.initializing;
    } finally {
      this.initializing = undefined;
    }
  }

  private async start(namespace: StorageNamespace): Promise<void> {
    const keys = new KeyLayout(this.options.prefix, namespace);
    const client = this.connect();
    try {
      await this.ready();
      const recorded = await this.run(() => client.tesseraNamespace(keys.meta, namespace.cloudService, namespace.cloudServiceAddress, newEpoch()));
      if (recorded[0] !== namespace.cloudService || recorded[1] !== namespace.cloudServiceAddress) {
        throw new InvalidOptionsError(`redis storage: keys ${keys.meta} belong to another namespace (hash collision); choose another prefix`);
      }
      this.epoch = recorded[2];
    } catch (err) {
      // Leave nothing reconnecting in the background; init() may be called again.
      client.disconnect();
      if (this.state !== 'closed') {
        this.client = undefined;
        this.state = 'idle';
        this.everReady = false;
      }
      throw err;
    }
    if (this.state === 'closed') throw new StorageUnavailableError('redis storage is closed');
    this.keys = keys;
    this.namespace = { cloudService: namespace.cloudService, cloudServiceAddress: namespace.cloudServiceAddress };
    await this.checkDurability();
  }

  durability(): StorageDurability | undefined {
    return this.lastDurability;
  }

  onDataLoss(listener: () => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  /** Reads what this Redis persists (CONFIG GET); warns when it is nothing. */
  private async checkDurability(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    const previous = this.lastDurability;
    this.lastDurability = await redisDurability(async (name) => (await this.run(() => client.config('GET', name) as Promise<string[]>))[1]);
    if (this.lastDurability.persists === false && previous?.persists !== false) {
      this.options.logger?.warn(
        { where: this.options.where, persistence: this.lastDurability.detail },
        'Redis persists nothing: a Redis restart loses every lease (their tokens stay valid until the orphan sweep); run it with appendonly yes, see docs/operations.md',
      );
    }
  }

  /**
   * After a reconnect: the data is gone when the epoch is (a restart that kept
   * nothing). The listeners hear it once per loss; a check that fails is made
   * again at the next reconnect, as the old epoch is still the one remembered.
   */
  private async afterReconnect(): Promise<void> {
    const client = this.client;
    const keys = this.keys;
    const namespace = this.namespace;
    if (client === undefined || keys === undefined || namespace === undefined) return;
    try {
      const recorded = await this.run(() => client.tesseraNamespace(keys.meta, namespace.cloudService, namespace.cloudServiceAddress, newEpoch()));
      if (recorded[2] !== this.epoch && this.state !== 'closed') {
        this.epoch = recorded[2];
        this.options.logger?.warn({ where: this.options.where }, 'Redis came back without the leases it held (a restart that kept nothing): sweeping the cloud for orphan tokens');
        for (const listener of this.lossListeners) {
          try {
            listener();
          } catch {
            // a listener's failure is its own; the others still hear of the loss
          }
        }
      }
      await this.checkDurability();
    } catch (err) {
      this.options.logger?.warn({ where: this.options.where, err: (err as Error).message }, 'could not check Redis after reconnecting; checking again at the next reconnect');
    }
  }

  async save(record: LeaseRecord): Promise<void> {
    const { client, keys } = this.use();
    const { fields, due } = encodeRecord(record);
    await this.run(() => client.tesseraSave(keys.lease(record.id), keys.due, record.id, String(due), ...fields));
  }

  async update(record: LeaseRecord): Promise<boolean> {
    const { client, keys } = this.use();
    const { fields, due } = encodeRecord(record);
    return (await this.run(() => client.tesseraUpdate(keys.lease(record.id), keys.due, record.id, String(due), ...fields))) === 1;
  }

  async get(leaseId: string): Promise<LeaseRecord | undefined> {
    const { client, keys } = this.use();
    const hash = await this.run(() => client.hgetall(keys.lease(leaseId)));
    return Object.keys(hash).length === 0 ? undefined : decodeRecord(hash, leaseId);
  }

  async remove(leaseId: string): Promise<boolean> {
    const { client, keys } = this.use();
    return (await this.run(() => client.tesseraRemove(keys.lease(leaseId), keys.due, leaseId))) === 1;
  }

  async getAll(): Promise<LeaseRecord[]> {
    const { client, keys } = this.use();
    const ids = await this.run(() => client.zrange(keys.due, 0, '-1'));
    const size = this.options.batchSize;
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
    // A few batches in flight: round trips overlap without one huge reply.
    const found = await pLimit(4).map(batches, async (batch) => {
      const hashes = await this.run(() => client.tesseraGetMany(keys.due, ...batch));
      const records: LeaseRecord[] = [];
      // A lease removed since the listing comes back empty: it is simply gone.
      hashes.forEach((hash, i) => {
        if (hash.length > 0) this.decodeInto(records, hash, batch[i]!);
      });
      return records;
    });
    // In due order, as listed.
    return found.flat();
  }

  async count(): Promise<number> {
    const { client, keys } = this.use();
    return await this.run(() => client.zcard(keys.due));
  }

  async nextDue(): Promise<Date | undefined> {
    const { client, keys } = this.use();
    const reply: unknown[] = await this.run(() => client.zrange(keys.due, 0, '0', 'WITHSCORES'));
    // RESP2 answers [id, score]; RESP3 may answer [[id, score]].
    const first = (Array.isArray(reply[0]) ? reply[0] : reply) as unknown[];
    return first.length < 2 ? undefined : new Date(Number(first[1]));
  }

  async claimDue(now: Date, limit: number, claimMs: number): Promise<LeaseRecord[]> {
    const { client, keys } = this.use();
    const at = checkClaim('claimDue', now, claimMs);
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionsError('claimDue: limit must be an integer >= 0');
    if (limit === 0) return [];
    const reply = await this.run(() => client.tesseraClaim(keys.due, String(at), String(limit), String(at + claimMs)));
    const records: LeaseRecord[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) this.decodeInto(records, reply[i + 1] as string[], reply[i] as string);
    return records;
  }

  async claimLease(leaseId: string, now: Date, claimMs: number): Promise<LeaseClaim> {
    const { client, keys } = this.use();
    const at = checkClaim('claimLease', now, claimMs);
    const reply = await this.run(() => client.tesseraClaimLease(keys.lease(leaseId), keys.due, leaseId, String(at), String(at + claimMs)));
    if (reply === 0) return { state: 'gone' };
    if (reply === 1) return { state: 'held' };
    // a corrupt lease cannot be revoked from its record: as if gone (getAll skips it too)
    const records: LeaseRecord[] = [];
    this.decodeInto(records, reply, leaseId);
    return records[0] === undefined ? { state: 'gone' } : { state: 'claimed', record: records[0] };
  }

  async claimOrphan(tokenId: string, claimMs: number): Promise<boolean> {
    const { client, keys } = this.use();
    if (!Number.isInteger(claimMs) || claimMs < 1) throw new InvalidOptionsError('claimOrphan: claimMs must be an integer >= 1');
    return (await this.run(() => client.set(keys.orphan(tokenId), '1', 'PX', claimMs, 'NX'))) === 'OK';
  }

  async reschedule(leaseId: string, revocation: RevocationState): Promise<void> {
    const { client, keys } = this.use();
    const { json, due } = encodeRevocation(revocation);
    await this.run(() => client.tesseraReschedule(keys.lease(leaseId), keys.due, leaseId, String(due), json));
  }

  async ready(timeoutMs = this.options.connectTimeoutMs): Promise<void> {
    const client = this.client;
    if (this.state === 'closed') throw new StorageUnavailableError('redis storage is closed');
    if (client === undefined) throw new StorageNotInitialisedError('redis storage: call init() before using it');
    if (client.status === 'ready' && !this.lost) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('end', onEnd);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onReady = (): void => done();
      // Bad credentials will not get better by waiting.
      const onError = (err: unknown): void => {
        if (isAuthError(err)) done(unavailable(err, this.failure));
      };
      const onEnd = (): void => done(new StorageUnavailableError(`Redis unavailable at ${this.options.where}: connection closed`));
      const timer = setTimeout(() => {
        const last = this.failure.lastError === undefined ? '' : ` (${this.failure.lastError})`;
        done(new StorageUnavailableError(`Redis unavailable at ${this.options.where}: not connected within ${timeoutMs} ms${last}`));
      }, timeoutMs);
      client.on('ready', onReady);
      client.on('error', onError);
      client.once('end', onEnd);
    });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    if (client.status === 'ready') {
      // QUIT lets replies in flight arrive; a dead server must not hold close() up.
      const quit = client.quit().catch(() => undefined);
      const timeout = new Promise((r) => setTimeout(r, this.options.commandTimeoutMs).unref());
      await Promise.race([quit, timeout]);
    }
    client.disconnect();
  }

  /** Creates the client, listens to it (an unheard 'error' would crash the process) and connects. */
  private connect(): Client {
    const client = this.options.createClient() as unknown as Client;
    for (const [name, definition] of Object.entries(SCRIPTS)) client.defineCommand(name, definition);
    const log = this.options.logger;
    client.on('error', (err: unknown) => {
      const message = redact(err instanceof Error ? err.message : String(err), this.options.secrets);
      if (message !== this.failure.lastError || this.state === 'ready') {
        log?.warn({ where: this.options.where, err: message }, 'Redis connection error');
      }
      this.failure.lastError = message;
    });
    client.on('ready', () => {
      if (this.state === 'unavailable') log?.info({ where: this.options.where }, 'Redis connection recovered');
      const reconnected = this.everReady && this.keys !== undefined && this.state !== 'closed';
      if (this.state !== 'closed') this.state = 'ready';
      this.everReady = true;
      this.lost = false;
      this.failure.lastError = undefined;
      if (reconnected) void this.afterReconnect();
    });
    client.on('close', () => {
      if (this.state !== 'ready') return;
      log?.warn({ where: this.options.where }, 'Redis connection lost; reconnecting');
      this.state = 'unavailable';
      this.failure.lastError ??= 'connection lost';
    });
    client.on('node error', (err: unknown) => {
      this.failure.lastError = redact(err instanceof Error ? err.message : String(err), this.options.secrets);
    });
    this.client = client;
    this.state = 'connecting';
    client.connect().catch(() => undefined);
    return client;
  }

  private use(): { client: Client; keys: KeyLayout } {
    if (this.state === 'closed') throw new StorageUnavailableError('redis storage is closed');
    if (this.client === undefined || this.keys === undefined) throw new StorageNotInitialisedError('redis storage: call init() before using it');
    return { client: this.client, keys: this.keys };
  }

  /** Runs one request, turning every Redis failure into a StorageUnavailableError. */
  private async run<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (isDisconnected(err)) this.lost = true;
      throw unavailable(err, this.failure);
    }
  }

  /** Adds a decoded record; a corrupt one is reported and skipped so it cannot block the others. */
  private decodeInto(records: LeaseRecord[], hash: string[], id: string): void {
    try {
      records.push(decodeRecord(hash, id));
    } catch (err) {
      this.options.logger?.warn({ where: this.options.where, leaseId: id, err: (err as Error).message }, 'skipping a corrupt lease in Redis');
    }
  }
}

/** Validates a claim's `now` and `claimMs`; returns `now` in ms. */
function checkClaim(method: string, now: Date, claimMs: number): number {
  const at = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidOptionsError(`${method}: now must be a valid Date`);
  if (!Number.isFinite(claimMs) || claimMs < 0) throw new InvalidOptionsError(`${method}: claimMs must be a number >= 0`);
  return at;
}

function newEpoch(): string {
  return randomBytes(8).toString('hex');
}
