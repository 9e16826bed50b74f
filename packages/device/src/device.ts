import { EventEmitter } from 'node:events';
import { backoffDelay, type Clock, describeError, type Logger, Node, silentLogger, sleep, systemClock } from '@tessera/core';
import type { Lease } from '@tessera/token-lease';
import { LeaseClient } from '@tessera/lease-client';
import { WebSocketTransport } from '@tessera/transport-ws';
import { type DeviceEvents, type DeviceStats, type DeviceStopOptions, leaseInfo } from './events.js';
import { LeaseWriter } from './influx-writer.js';
import { type DevicePoint, toLine } from './line.js';
import { type DeviceOptions, resolveDeviceOptions, type ResolvedDeviceOptions } from './options.js';

interface Pending {
  point: DevicePoint;
  line: string;
  /** A write of it has failed at least once. */
  failed: boolean;
}

type State = 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Starts a device: connects to the hub, gets a lease, then writes one point per
 * interval to InfluxDB, replaying what failed with a new token after a 401/403.
 * Resolves once the first lease is held and the first point is queued.
 */
export async function startDevice(options: DeviceOptions): Promise<Device> {
  const device = new Device(resolveDeviceOptions(options));
  await device.start();
  return device;
}

/**
 * A device node. Points go into a queue that one writer drains in order: a
 * point leaves the queue only when InfluxDB has taken it, so a revoked token
 * costs a retry, never a point. Every point has its own timestamp, so a write
 * that InfluxDB took but whose answer was lost is harmless when replayed: the
 * same series and time is the same point.
 */
export class Device extends EventEmitter<DeviceEvents> {
  readonly deviceId: string;
  private readonly options: ResolvedDeviceOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sample: (seq: number, now: number) => number;
  private readonly node: Node;
  private readonly ownsNode: boolean;
  private readonly client: LeaseClient;
  private readonly queue: Pending[] = [];
  private state: State = 'starting';
  private seq = 0;
  private lastTimestamp = 0;
  private nextDue = 0;
  private timer: unknown;
  private writer: LeaseWriter | undefined;
  private inFlight = 0;
  private draining: Promise<void> | undefined;
  /** Aborted to cut the writer's current wait short (stop, or a lease arriving); then replaced. */
  private wakeup = new AbortController();
  private waitingForLease = false;
  private giveUp = false;
  private stopping: Promise<void> | undefined;
  private announced: string | undefined;
  private readonly counters = { pointsWritten: 0, pointsFailed: 0, pointsLost: 0, authFailures: 0, leasesUsed: 0 };

  /** `startDevice` does this and `start()`; construct it yourself to listen from the first lease on. */
  constructor(options: ResolvedDeviceOptions) {
    super();
    this.options = options;
    this.deviceId = options.deviceId;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ device: options.deviceId });
    this.sample = options.sample ?? defaultSample;
    this.ownsNode = options.node === undefined;
    this.node = options.node ?? ownNode(options.deviceId, this.logger);
    try {
      this.client = new LeaseClient({
        node: this.node,
        hub: options.hub,
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
        ...(options.leaseOptions !== undefined ? { options: options.leaseOptions } : {}),
        ...(options.cache !== undefined ? { cache: options.cache } : {}),
        ...(options.sink !== undefined ? { sink: options.sink } : {}),
        ...(options.identity !== undefined ? { identity: options.identity } : {}),
        ...(options.enrollToken !== undefined ? { enrollToken: options.enrollToken } : {}),
        ...(options.hubIdentifier !== undefined ? { hubIdentifier: options.hubIdentifier } : {}),
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        logger: this.logger,
      });
    } catch (err) {
      if (this.ownsNode) void this.node.stop({ timeout: 0 });
      throw err;
    }
    this.client.on('acquired', ({ lease, reason }) => {
      this.announce(lease, reason);
      this.leaseArrived();
    });
    this.client.on('renewed', ({ lease }) => {
      this.emit('lease', { lease: leaseInfo(lease), reason: 'renewed' });
      this.leaseArrived();
    });
    this.client.on('revoked', ({ leaseId }) => this.logger.info({ lease: leaseId }, 'lease revoked'));
    this.client.on('channel', (e) => this.emit('channel', e));
    this.client.on('enrolled', (e) => this.emit('enrolled', e));
    this.client.on('failed', ({ error, operation }) => this.leaseFailed(operation, error));
  }

  /** Gets the first lease and starts ticking; `startDevice` calls it. */
  async start(): Promise<void> {
    if (this.state !== 'starting') throw new Error(`device ${this.deviceId} was started already`);
    let lease: Lease;
    try {
      lease = await this.client.start();
    } catch (err) {
      await this.release(false);
      this.state = 'stopped';
      throw err;
    }
    if (this.state !== 'starting') return; // stopped meanwhile
    this.announce(lease, 'start');
    this.state = 'running';
    this.nextDue = this.clock.now();
    this.tick();
  }

  /** Counters and the lease in use. */
  stats(): DeviceStats {
    const lease = this.writer?.lease ?? this.client.lease;
    return { ...this.counters, pointsPending: this.queue.length, lease: lease === undefined ? undefined : leaseInfo(lease) };
  }

  /**
   * Stops ticking, writes what is pending (until `flushTimeout`; the rest is
   * counted lost), stops the LeaseClient (revoking the lease unless
   * `revokeOnStop` is false) and the device's own node.
   */
  stop(options: DeviceStopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.flushTimeout ?? this.options.requestTimeout);
    return this.stopping;
  }

  private async doStop(flushTimeout: number): Promise<void> {
    this.state = 'stopping';
    this.clock.clearTimeout(this.timer);
    this.wake();
    if (this.draining !== undefined) {
      const deadline = this.clock.setTimeout(() => {
        this.giveUp = true;
      }, flushTimeout);
      await this.draining;
      this.clock.clearTimeout(deadline);
    }
    if (this.queue.length > 0) {
      this.counters.pointsLost += this.queue.length;
      this.counters.pointsFailed -= this.queue.filter((p) => p.failed).length;
      this.logger.warn({ points: this.queue.length, firstSeq: this.queue[0]?.point.seq }, 'stopped with points not written; they are lost');
      this.queue.length = 0;
    }
    this.writer?.dispose();
    await this.release(this.options.revokeOnStop);
    this.state = 'stopped';
  }

  private async release(revoke: boolean): Promise<void> {
    try {
      await this.client.stop({ revoke });
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'lease client did not stop cleanly');
    }
    if (this.ownsNode) await this.node.stop({ timeout: 1_000 });
  }

  private tick(): void {
    if (this.state !== 'running') return;
    const now = this.clock.now();
    // strictly increasing, so two points can never share a series and time (InfluxDB would merge them)
    const timestamp = Math.max(now, this.lastTimestamp + 1);
    this.lastTimestamp = timestamp;
    const seq = ++this.seq;
    this.enqueue(seq, timestamp);
    this.nextDue = Math.max(this.nextDue + this.options.interval, now);
    this.timer = this.clock.setTimeout(() => this.tick(), this.nextDue - now);
  }

  private enqueue(seq: number, timestamp: number): void {
    let line: string;
    let value: number;
    try {
      value = this.sample(seq, timestamp);
      line = toLine(this.options.measurement, this.deviceId, { seq, value, timestamp });
    } catch (err) {
      this.lose(seq, `no sample: ${describeError(err).message}`);
      return;
    }
    this.queue.push({ point: { seq, value, timestamp }, line, failed: false });
    if (this.queue.length > this.options.maxPending) {
      // the oldest not in flight: the batch being written stays the head of the queue
      const [dropped] = this.queue.splice(this.inFlight, 1);
      if (dropped !== undefined) {
        if (dropped.failed) this.counters.pointsFailed--;
        this.lose(dropped.point.seq, `more than ${this.options.maxPending} points pending`);
      }
    }
    this.kick();
  }

  private kick(): void {
    if (this.draining !== undefined || this.queue.length === 0) return;
    this.draining = this.drain()
      .catch((err: unknown) => this.logger.error({ err: describeError(err) }, 'writer failed'))
      .finally(() => {
        this.draining = undefined;
        if (this.state === 'running') this.kick();
      });
  }

  /** Writes the queue in order until it is empty (or the device stops and a write fails). */
  private async drain(): Promise<void> {
    let transientAttempts = 0;
    let authStreak = 0;
    // after InfluxDB rejected a batch, its points go one by one to find the bad one
    let singlyThrough = 0;
    while (this.queue.length > 0 && !this.giveUp) {
      const lease = this.client.lease;
      if (lease === undefined) {
        // expired on the client's clock (a renewal late or failing): wait for the client, no write with a dead token
        if (this.state !== 'running') return;
        this.waitingForLease = true;
        await this.sleep(backoffDelay(transientAttempts++, this.options.retry));
        this.waitingForLease = false;
        continue;
      }
      const writer = this.writerFor(lease);
      const head = this.queue[0]!;
      const batch = this.queue.slice(0, head.point.seq <= singlyThrough ? 1 : this.options.batchSize);
      this.inFlight = batch.length;
      const failure = await writer.write(batch.map((p) => p.line));
      this.inFlight = 0;
      if (failure === undefined) {
        this.queue.splice(0, batch.length);
        this.written(batch, writer.lease.id);
        transientAttempts = 0;
        authStreak = 0;
        continue;
      }
      for (const p of batch) {
        if (!p.failed) this.counters.pointsFailed++;
        p.failed = true;
      }
      switch (failure.kind) {
        case 'auth': {
          this.counters.authFailures++;
          this.emit('auth-failure', { leaseId: writer.lease.id, status: failure.status, points: batch.length });
          this.logger.warn({ lease: writer.lease.id, status: failure.status, points: batch.length }, 'token refused; reporting its lease');
          // a new token refused at once too: the hub grants something InfluxDB does not accept; do not spin
          if (authStreak > 0) {
            if (this.state !== 'running') return;
            await this.sleep(backoffDelay(authStreak - 1, this.options.retry));
          }
          authStreak++;
          try {
            // the lease whose token failed, never whatever the client holds by now
            await this.client.reportAuthFailure(writer.lease);
          } catch (err) {
            // the client has reported it as `failed`; the next write tells whether its lease is good
            this.logger.debug({ err: describeError(err) }, 'no new lease after the auth failure');
            if (this.state !== 'running') return;
            await this.sleep(backoffDelay(transientAttempts++, this.options.retry));
          }
          break;
        }
        case 'rejected': {
          if (batch.length > 1) {
            singlyThrough = batch[batch.length - 1]!.point.seq;
            break;
          }
          this.queue.shift();
          this.counters.pointsFailed--;
          this.lose(head.point.seq, `InfluxDB rejected it (${failure.status}): ${failure.error.message}`);
          break;
        }
        case 'transient': {
          if (this.state !== 'running') return;
          const retryIn = backoffDelay(transientAttempts++, this.options.retry);
          const status = failure.status;
          this.emit('write-failed', { ...(status !== undefined ? { status } : {}), message: failure.error.message, points: batch.length, retryIn });
          this.logger.warn({ status, err: describeError(failure.error), points: batch.length, retryIn }, 'write failed; will retry');
          await this.sleep(retryIn);
          break;
        }
      }
    }
  }

  private written(batch: readonly Pending[], leaseId: string): void {
    this.counters.pointsWritten += batch.length;
    for (const p of batch) {
      if (p.failed) this.counters.pointsFailed--;
      this.emit('point-written', { ...p.point, leaseId, replayed: p.failed });
    }
  }

  /** The writer for a lease's token; a new token means a new WriteApi. */
  private writerFor(lease: Lease): LeaseWriter {
    const current = this.writer;
    if (current !== undefined && current.lease.id === lease.id && current.lease.value === lease.value) return current;
    const target = { url: this.options.influxUrl, org: this.options.org, bucket: this.options.bucket, timeout: this.options.requestTimeout };
    this.writer = new LeaseWriter(lease, target, this.options.batchSize);
    current?.dispose();
    if (current?.lease.id !== lease.id) this.counters.leasesUsed++;
    if (current !== undefined) {
      this.emit('token-swapped', { from: current.lease.id, to: lease.id });
      this.logger.info({ from: current.lease.id, to: lease.id }, 'token swapped');
    }
    return this.writer;
  }

  private announce(lease: Lease, reason: string): void {
    if (this.announced === lease.id) return;
    this.announced = lease.id;
    this.logger.info({ lease: lease.id, expires: lease.expires, reason }, 'lease acquired');
    this.emit('lease', { lease: leaseInfo(lease), reason });
  }

  /** Waits `ms` on the device's clock, or until `wake()`. */
  private sleep(ms: number): Promise<void> {
    return sleep(ms, this.clock, this.wakeup.signal);
  }

  /** Ends the writer's current wait now, if there is one. */
  private wake(): void {
    this.wakeup.abort();
    this.wakeup = new AbortController();
  }

  /** A writer waiting for a valid lease goes on at once. */
  private leaseArrived(): void {
    if (this.waitingForLease) this.wake();
  }

  private leaseFailed(operation: string, err: Error): void {
    this.logger.warn({ operation, err: describeError(err) }, 'lease operation failed');
    this.emit('lease-failed', { operation, message: err.message });
  }

  private lose(seq: number, reason: string): void {
    this.counters.pointsLost++;
    this.logger.error({ seq, reason }, 'point lost');
    this.emit('point-lost', { seq, reason });
  }
}

function ownNode(deviceId: string, logger: Logger): Node {
  const node = new Node({ name: `device-${deviceId}`, logger });
  new WebSocketTransport(node);
  return node;
}

/** A temperature-like reading: a slow sine around 20 with three decimals. */
function defaultSample(seq: number): number {
  return Math.round((20 + 5 * Math.sin(seq / 30)) * 1000) / 1000;
}
