import { loadSnapshot } from '@tessera/core';
import { InvalidOptionsError, StorageNotInitialisedError, StorageUnavailableError } from './errors.js';
import type { LeaseRecord, RevocationState } from './lease.js';
import { DueQueue, type DueEntry } from './memory-storage/due-queue.js';
import { checkRecord, checkRevocation, copyRecord } from './memory-storage/record.js';
import { SnapshotSchema, writeSnapshot, type NamespaceSnapshot } from './memory-storage/snapshot.js';
import type { LeaseClaim, StorageNamespace, StorageService } from './storage-service.js';

export interface MemoryStorageOptions {
  /** A JSON file to load at init and keep up to date, so a restarted hub keeps its leases. */
  snapshotPath?: string;
  /** How long changes gather before a snapshot is written (default 250 ms; longer when writes are slow). */
  snapshotDelayMs?: number;
  /** Where failed background snapshot writes are reported (a pino or core Logger fits). */
  logger?: { warn(fields: object, message: string): void };
}

interface Entry extends DueEntry {
  record: LeaseRecord;
  /** Set while a revocation of the lease is claimed: when the claim ends (ms). Not in the snapshot: one process, nobody else claims. */
  claimedUntil?: number | undefined;
}

/**
 * The embedded StorageService (`memory`): one process, optionally snapshotted to a
 * file. One process may write a snapshot file at a time (other namespaces found in
 * it are kept, but two live writers would overwrite each other).
 */
export function memoryStorage(options: MemoryStorageOptions = {}): StorageService {
  if (options.snapshotPath !== undefined && (typeof options.snapshotPath !== 'string' || options.snapshotPath === '')) {
    throw new InvalidOptionsError('memory storage: snapshotPath must be a non-empty string');
  }
  const delay = options.snapshotDelayMs ?? 250;
  if (!Number.isFinite(delay) || delay < 0) throw new InvalidOptionsError('memory storage: snapshotDelayMs must be a number >= 0');
  return new MemoryStorage(options.snapshotPath, delay, options.logger);
}

class MemoryStorage implements StorageService {
  readonly name = 'memory';
  private namespace: StorageNamespace | undefined;
  private closed = false;
  private readonly leases = new Map<string, Entry>();
  private readonly queue = new DueQueue<Entry>();
  /** Namespaces found in the snapshot file that are not ours: written back untouched. */
  private others: NamespaceSnapshot[] = [];
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteMs = 0;

  constructor(
    private readonly snapshotPath: string | undefined,
    private readonly delayMs: number,
    private readonly logger: MemoryStorageOptions['logger'],
  ) {}

  async init(namespace: StorageNamespace): Promise<void> {
    this.open(false);
    if (this.namespace !== undefined) {
      if (sameNamespace(this.namespace, namespace)) return;
      throw new InvalidOptionsError('memory storage is already initialised for another namespace');
    }
    if (this.snapshotPath !== undefined) await this.load(this.snapshotPath, namespace);
    this.namespace = { cloudService: namespace.cloudService, cloudServiceAddress: namespace.cloudServiceAddress };
  }

  async save(record: LeaseRecord): Promise<void> {
    this.open();
    const checked = checkRecord(record);
    const due = Date.parse(checked.expires);
    const entry = this.leases.get(checked.id);
    if (entry === undefined) {
      const added: Entry = { id: checked.id, due, slot: -1, record: checked };
      this.leases.set(added.id, added);
      this.queue.push(added);
    } else {
      entry.record = checked;
      entry.claimedUntil = undefined;
      this.queue.reschedule(entry, due);
    }
    this.changed();
  }

  async update(record: LeaseRecord): Promise<boolean> {
    this.open();
    const checked = checkRecord(record);
    const entry = this.leases.get(checked.id);
    if (entry === undefined || entry.record.revocation !== undefined || entry.claimedUntil !== undefined) return false;
    entry.record = checked;
    this.queue.reschedule(entry, Date.parse(checked.expires));
    this.changed();
    return true;
  }

  async get(leaseId: string): Promise<LeaseRecord | undefined> {
    this.open();
    const entry = this.leases.get(leaseId);
    return entry === undefined ? undefined : copyRecord(entry.record);
  }

  async remove(leaseId: string): Promise<boolean> {
    this.open();
    const entry = this.leases.get(leaseId);
    if (entry === undefined) return false;
    this.leases.delete(leaseId);
    this.queue.delete(entry);
    this.changed();
    return true;
  }

  async getAll(): Promise<LeaseRecord[]> {
    this.open();
    return Array.from(this.leases.values(), (entry) => copyRecord(entry.record));
  }

  async count(): Promise<number> {
    this.open();
    return this.leases.size;
  }

  async nextDue(): Promise<Date | undefined> {
    this.open();
    const first = this.queue.peek();
    return first === undefined ? undefined : new Date(first.due);
  }

  async claimDue(now: Date, limit: number, claimMs: number): Promise<LeaseRecord[]> {
    this.open();
    const at = checkClaim(now, limit, claimMs);
    // Take every due entry off the top first, then put them back at their claim's
    // end: re-queuing one by one would hand it out twice when claimMs is 0.
    const claimed: Entry[] = [];
    while (claimed.length < limit) {
      const first = this.queue.peek();
      if (first === undefined || first.due > at) break;
      claimed.push(this.queue.pop()!);
    }
    for (const entry of claimed) {
      entry.claimedUntil = at + claimMs;
      this.queue.reschedule(entry, at + claimMs);
    }
    if (claimed.length > 0) this.changed();
    return claimed.map((entry) => copyRecord(entry.record));
  }

  async claimLease(leaseId: string, now: Date, claimMs: number): Promise<LeaseClaim> {
    this.open();
    const at = checkClaim(now, 1, claimMs);
    const entry = this.leases.get(leaseId);
    if (entry === undefined) return { state: 'gone' };
    if (entry.claimedUntil !== undefined && entry.claimedUntil > at) return { state: 'held' };
    entry.claimedUntil = at + claimMs;
    this.queue.reschedule(entry, at + claimMs);
    this.changed();
    return { state: 'claimed', record: copyRecord(entry.record) };
  }

  async reschedule(leaseId: string, revocation: RevocationState): Promise<void> {
    this.open();
    const checked = checkRevocation(revocation);
    const entry = this.leases.get(leaseId);
    // Removed meanwhile (revoked by its owner): nothing left to retry.
    if (entry === undefined) return;
    entry.record = { ...entry.record, revocation: checked };
    entry.claimedUntil = undefined;
    this.queue.reschedule(entry, Date.parse(checked.nextAttempt));
    this.changed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.dirty) await this.flush(true);
  }

  private open(initialised = true): void {
    if (this.closed) throw new StorageUnavailableError('memory storage is closed');
    if (initialised && this.namespace === undefined) {
      throw new StorageNotInitialisedError('memory storage: call init() before using it');
    }
  }

  private async load(path: string, namespace: StorageNamespace): Promise<void> {
    let snapshot;
    try {
      snapshot = await loadSnapshot(path, { schema: SnapshotSchema });
    } catch (err) {
      // Refuse to start rather than overwrite the operator's leases with an empty store.
      throw new StorageUnavailableError(`memory storage snapshot ${(err as Error).message}; fix or move the file away`, { cause: err });
    }
    if (snapshot === undefined) return;
    this.others = snapshot.namespaces.filter((ns) => !sameNamespace(ns, namespace));
    const mine = snapshot.namespaces.find((ns) => sameNamespace(ns, namespace));
    for (const { due, record } of mine?.leases ?? []) {
      const entry: Entry = { id: record.id, due, slot: -1, record: copyRecord(record) };
      const previous = this.leases.get(entry.id);
      if (previous !== undefined) this.queue.delete(previous);
      this.leases.set(entry.id, entry);
      this.queue.push(entry);
    }
  }

  private changed(): void {
    if (this.snapshotPath === undefined) return;
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.writing !== undefined || this.closed) return;
    // Slow writes (large stores) back off so snapshots stay a small share of the CPU.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush(false);
    }, Math.max(this.delayMs, 4 * this.lastWriteMs));
    this.timer.unref();
  }

  private async flush(final: boolean): Promise<void> {
    const path = this.snapshotPath;
    if (path === undefined || this.namespace === undefined) return;
    this.dirty = false;
    const started = Date.now();
    const leases = Array.from(this.leases.values(), (entry) => ({ due: entry.due, record: entry.record }));
    const snapshot = {
      format: 'tessera-memory-storage' as const,
      version: 1 as const,
      namespaces: [...this.others, { ...this.namespace, leases }],
    };
    const write = writeSnapshot(path, snapshot);
    this.writing = write.then(
      () => undefined,
      () => undefined,
    );
    try {
      await write;
      this.lastWriteMs = Date.now() - started;
    } catch (err) {
      this.dirty = true;
      if (final) throw new StorageUnavailableError(`memory storage snapshot ${path} could not be written: ${(err as Error).message}`, { cause: err });
      this.logger?.warn({ path, err: (err as Error).message }, 'memory storage snapshot could not be written; retrying on the next change');
      return;
    } finally {
      this.writing = undefined;
    }
    if (this.dirty && !final) this.schedule();
  }
}

function sameNamespace(a: StorageNamespace, b: StorageNamespace): boolean {
  return a.cloudService === b.cloudService && a.cloudServiceAddress === b.cloudServiceAddress;
}

/** Validates claimDue's arguments; returns `now` in ms. */
function checkClaim(now: Date, limit: number, claimMs: number): number {
  const at = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidOptionsError('claimDue: now must be a valid Date');
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionsError('claimDue: limit must be an integer >= 0');
  if (!Number.isFinite(claimMs) || claimMs < 0) throw new InvalidOptionsError('claimDue: claimMs must be a number >= 0');
  return at;
}
