import { shortId } from './demo-event.js';

/** What the demo's operator does to a device's token: revoke its lease (InfluxDB then answers 401) or deactivate its authorization (403). */
export type OperatorAct = 'revoke' | 'deactivate';

export interface OperatorOptions {
  /** Milliseconds between a device's points. */
  interval: number;
  /** The TTL the devices ask for (ms). */
  ttl: number;
  /** Revokes a lease through the hub, as an admin would after a leak. */
  revoke(leaseId: string): Promise<void>;
  /** Sets the lease's authorization to `inactive` in InfluxDB. */
  deactivate(leaseId: string): Promise<void>;
  show(text: string): void;
}

interface HeldLease {
  id: string;
  /** When the device got or renewed it (ms, Date.now()). */
  since: number;
  expires: number;
}

interface Acting {
  act: OperatorAct;
  device: string;
  leaseId: string;
}

// A LeaseClient renews at 2/3 of the remaining time, ±10 %: never before 0.6 of it.
const EARLIEST_RENEWAL = 0.6;

/**
 * Acts on devices' tokens so that every act is met by a write: it acts right
 * after a device's write, only while that device's next renewal is more than an
 * interval and a half away (a renewal would replace a revoked lease before any
 * write met it), and waits until the device meets the act before the next one.
 * Should the device still write with a new lease first, the act is tried again
 * (after any other act waiting: a deactivation survives renewals).
 */
export class DemoOperator {
  private readonly wanted: OperatorAct[] = [];
  private readonly leases = new Map<string, HeldLease>();
  private acting: Acting | undefined;
  private lastDevice: string | undefined;
  private stopped = false;
  private readonly deviceCount: () => number;

  constructor(
    private readonly options: OperatorOptions,
    deviceCount: () => number,
  ) {
    this.deviceCount = deviceCount;
  }

  /** Asks for an act; it is carried out at the next good moment. Acts asked for while others wait are not piled up. */
  plan(act: OperatorAct): void {
    if (!this.wanted.includes(act)) this.wanted.push(act);
  }

  /** A device holds a lease (got, replaced or renewed). */
  leaseHeld(device: string, lease: { id: string; expires: string }, now = Date.now()): void {
    this.leases.set(device, { id: lease.id, since: now, expires: Date.parse(lease.expires) });
  }

  /** A device's write went through with `leaseId`: if an act is due and the moment is good, act now. */
  written(device: string, leaseId: string, now = Date.now()): void {
    const acting = this.acting;
    if (acting !== undefined && acting.device === device && acting.leaseId !== leaseId) {
      // it writes with another lease now: a renewal found the revoked lease gone, or the maximum TTL replaced it, before a write met the act
      this.acting = undefined;
      this.plan(acting.act);
      this.options.show(`${device} replaced lease ${shortId(acting.leaseId)} before a write met it; the operator tries again`);
    }
    const act = this.wanted[0];
    if (act === undefined || this.acting !== undefined || this.stopped) return;
    if (this.deviceCount() > 1 && device === this.lastDevice) return;
    const held = this.leases.get(device);
    if (held === undefined || held.id !== leaseId || !this.farFromRenewal(held, now)) return;
    this.wanted.shift();
    this.acting = { act, device, leaseId };
    this.lastDevice = device;
    this.options.show(
      act === 'revoke'
        ? `revokes ${device}'s lease ${shortId(leaseId)} from outside (as if it leaked): its next write meets a 401`
        : `deactivates ${device}'s token ${shortId(leaseId)} in InfluxDB (status inactive): its next write meets a 403`,
    );
    const done = act === 'revoke' ? this.options.revoke(leaseId) : this.options.deactivate(leaseId);
    done.catch((err: unknown) => {
      if (this.stopped) return;
      this.options.show(`${act} of ${shortId(leaseId)} failed: ${err instanceof Error ? err.message : String(err)}; trying again`);
      if (this.acting?.leaseId === leaseId) this.acting = undefined;
      this.plan(act);
    });
  }

  /** No more acts (the demo is ending: a device that is stopping should not meet one). */
  stop(): void {
    this.stopped = true;
  }

  /** A device met a 401/403 with `leaseId`: the act on it, if any, is done. */
  authFailure(leaseId: string): void {
    if (this.acting?.leaseId === leaseId) this.acting = undefined;
  }

  /** Whether the device's next write (an interval away, with half an interval to spare) comes before its lease can be renewed. */
  private farFromRenewal(held: HeldLease, now: number): boolean {
    const margin = 1.5 * this.options.interval;
    // points too far apart for any write to come before a renewal: act anyway, a miss is tried again
    if (EARLIEST_RENEWAL * this.options.ttl <= margin) return true;
    return now + margin < held.since + EARLIEST_RENEWAL * (held.expires - held.since);
  }
}
