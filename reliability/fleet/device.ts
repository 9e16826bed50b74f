// One device of a swarm: its own identity, node, WebSocket connection and secure channel to
// the hub (a HubSession), making lease requests one at a time and reporting each one: when
// it started, what it was, how it ended, how long it took. It never logs or reports a token.
import { setTimeout as sleep } from 'node:timers/promises';
import { fromUtf8, type Logger, Node } from '@tessera/core';
import { ApiResponseSchema, AUTHORITY_WORKER, HubSession, LeaseRejectedError } from '@tessera/lease-client';
import type { Signer } from '@tessera/secure-channel';
import { type Lease, LeaseSchema } from '@tessera/token-lease';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import type { Action, Behaviour, EventKind, Sample, SwarmConfig } from './swarm-protocol.js';

/** Where a device puts what it saw. */
export interface DeviceReporter {
  sample(sample: Sample): void;
  event(kind: EventKind, device: string, fields?: { lease?: string; detail?: string }): void;
  /** A lease value the device learned: kept for the secrets scan, never reported. */
  secret(value: string): void;
}

/** Outcomes after which the same request is not tried again at once. */
const FINAL = new Set(['not_found', 'invalid_request', 'not_allowed', 'quota_exceeded', 'NotEnrolledError', 'EnrollmentRefusedError', 'HubNotTrustedError']);
/** Outcomes that end the device: the hub will not serve it. */
const FATAL = new Set(['not_allowed', 'NotEnrolledError', 'EnrollmentRefusedError', 'HubNotTrustedError']);
/** Back-off after a transient failure: 100 ms doubling to 2 s, ±50 %. */
const BACKOFF = { first: 100, max: 2_000 };

interface Outcome {
  code: string;
  lease?: Lease;
  message?: string;
}

/** The lease a device holds and where it is in its lifecycle. */
interface Held {
  lease: Lease;
  wrote: boolean;
  renewalsLeft: number;
  next: 'get' | 'renew';
  /**
   * A revoke was sent and not answered `ok` (no answer, or `unavailable`: the hub retries a
   * revocation the cloud refused by itself): the hub may have done it since.
   */
  revokeTried: boolean;
}

/** The outcome of a request as a short code (docs/lease-api.md failure codes, or the error's name). */
export function outcomeOf(err: unknown): string {
  if (err instanceof LeaseRejectedError) return err.reason;
  // the authority answered `unavailable` or `internal` while the channel opened
  if (err instanceof Error && err.name === 'LeaseUnavailableError') return 'unavailable';
  return err instanceof Error ? err.name.slice(0, 64) : 'unknown';
}

export class FleetDevice {
  private readonly node: Node;
  private readonly session: HubSession;
  private held: Held | undefined;
  /** When the current run of failures on the held lease began. */
  private failingSince: number | undefined;
  private failures = 0;
  private fatal = false;
  /** The work under way: a new `run` waits for the one before it (after a pause) to end. */
  private working: Promise<void> = Promise.resolve();

  /** `d<number>` */
  readonly name: string;

  constructor(
    /** Its number in the fleet: its name is `d<number>`. */
    readonly number: number,
    identity: Signer,
    private readonly config: Pick<SwarmConfig, 'hub' | 'hubIdentifier' | 'influx' | 'requestTimeout'>,
    enrollToken: string | undefined,
    private readonly reporter: DeviceReporter,
    logger: Logger,
  ) {
    const name = `d${number}`;
    this.name = name;
    this.node = new Node({ name, logger });
    // its own WebSocket connection; back on its feet within a second once the hub is back
    new WebSocketTransport(this.node, { reconnect: { initialDelay: 100, maxDelay: 1_000 } });
    this.session = new HubSession({
      node: this.node,
      hub: routeTo(config.hub, 'token_lease'),
      identity,
      enrollToken,
      hubIdentifier: config.hubIdentifier,
      requestTimeout: config.requestTimeout,
      logger,
    });
    this.session.on('enrolled', () => reporter.event('enrolled', name));
  }

  /** Whether the device holds a lease. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Opens the channel and gets a credential (enrolling if the hub does not know us yet); true when done within `attempts`. */
  async connect(attempts: number, stop: AbortSignal): Promise<boolean> {
    for (let i = 0; i < attempts && !stop.aborted; i++) {
      try {
        await this.session.request(AUTHORITY_WORKER, JSON.stringify({ action: 'credential' }));
        return true;
      } catch (err) {
        const code = outcomeOf(err);
        if (FATAL.has(code)) {
          this.reporter.event('refused', this.name, { detail: code });
          return false;
        }
        await this.backoff(i, stop);
      }
    }
    return false;
  }

  /** Works as `behaviour` says until `stop` is aborted (or the hub refuses the device for good), after any work begun before. */
  run(behaviour: Behaviour, stop: AbortSignal): Promise<void> {
    this.working = this.working.then(() => this.work(behaviour, stop));
    return this.working;
  }

  private async work(behaviour: Behaviour, stop: AbortSignal): Promise<void> {
    if (behaviour.kind === 'flood') {
      await Promise.all(Array.from({ length: behaviour.inFlight }, () => this.flood(behaviour.ttl, stop)));
      return;
    }
    while (!stop.aborted && !this.fatal) {
      const [min, max] = behaviour.thinkMs;
      await pause(min + Math.random() * (max - min), stop);
      if (stop.aborted) break;
      await this.step(behaviour);
    }
  }

  /** Revokes the lease it holds (a few attempts); true when it holds none afterwards. */
  async revokeHeld(attempts: number): Promise<boolean> {
    const never = new AbortController().signal;
    for (let i = 0; i < attempts && this.held !== undefined; i++) {
      if (!(await this.revoke(this.held))) await this.backoff(i, never);
    }
    return this.held === undefined;
  }

  async close(): Promise<void> {
    this.session.close();
    await this.node.stop({ timeout: 100 });
  }

  private async step(behaviour: Extract<Behaviour, { kind: 'lifecycle' }>): Promise<void> {
    const held = this.held;
    if (held === undefined) {
      const outcome = await this.ask('create', { action: 'create', options: { ttl: behaviour.ttl } });
      if (outcome.lease !== undefined) {
        this.reporter.secret(outcome.lease.value);
        this.held = { lease: outcome.lease, wrote: !behaviour.write, renewalsLeft: behaviour.renewals, next: 'get', revokeTried: false };
      }
      return;
    }
    if (!held.wrote) {
      // one try: a write that fails is reported, the lifecycle goes on
      await this.write(held.lease);
      held.wrote = true;
      return;
    }
    if (held.renewalsLeft > 0 && held.next === 'get') {
      if ((await this.ask('get', { action: 'get', token_id: held.lease.id }, held)).code === 'ok') held.next = 'renew';
      return;
    }
    if (held.renewalsLeft > 0) {
      const outcome = await this.ask('renew', { action: 'renew', token_id: held.lease.id }, held);
      if (outcome.lease !== undefined) {
        held.lease = outcome.lease;
        held.renewalsLeft--;
        held.next = 'get';
      }
      return;
    }
    if (behaviour.end === 'revoke') await this.revoke(held);
    // `expire`: forgotten here, revoked by the hub at its expiry
    else this.held = undefined;
  }

  private async revoke(held: Held): Promise<boolean> {
    const outcome = await this.ask('revoke', { action: 'revoke', token_id: held.lease.id }, held);
    if (outcome.code === 'ok' || (outcome.code === 'not_found' && held.revokeTried)) {
      this.held = undefined;
      return true;
    }
    held.revokeTried = true;
    return false;
  }

  private async flood(ttl: number, stop: AbortSignal): Promise<void> {
    while (!stop.aborted && !this.fatal) {
      const outcome = await this.ask('create', { action: 'create', options: { ttl } });
      if (outcome.lease !== undefined) this.reporter.secret(outcome.lease.value);
    }
  }

  /**
   * One request to the lease worker, reported as a sample. On a failure about the held lease:
   * the hub not knowing it means it expired (past its `expires`) or was lost; a transient
   * failure waits a back-off (the caller tries again); after a run of failures, the first
   * success on the same lease is `resumed`.
   */
  private async ask(action: Action, body: object, held?: Held): Promise<Outcome> {
    const outcome = await this.timed(action, async () => {
      const reply = await this.session.request(this.session.leaseWorker, JSON.stringify(body));
      return decode(reply.payload);
    });
    if (outcome.code === 'ok') {
      if (held !== undefined && this.failingSince !== undefined) this.reporter.event('resumed', this.name, { lease: held.lease.id });
      this.failingSince = undefined;
      this.failures = 0;
      return outcome;
    }
    if (FATAL.has(outcome.code)) {
      this.fatal = true;
      this.reporter.event('refused', this.name, { detail: outcome.code });
      return outcome;
    }
    if (held !== undefined && (outcome.code === 'not_found' || (action === 'renew' && outcome.code === 'invalid_request'))) {
      if (!(action === 'revoke' && held.revokeTried)) {
        const expired = Date.now() >= Date.parse(held.lease.expires);
        this.reporter.event(expired ? 'expired' : 'lost', this.name, { lease: held.lease.id, detail: `${action}: ${outcome.code}` });
      }
      this.held = undefined;
      this.failingSince = undefined;
      this.failures = 0;
      return outcome;
    }
    if (FINAL.has(outcome.code)) return outcome;
    if (held !== undefined) this.failingSince ??= Date.now();
    await this.backoff(this.failures++, new AbortController().signal);
    return outcome;
  }

  private async write(lease: Lease): Promise<void> {
    const { url, org, bucket } = this.config.influx;
    const target = `${url}/api/v2/write?org=${encodeURIComponent(org)}&bucket=${encodeURIComponent(bucket)}&precision=ms`;
    await this.timed('write', async () => {
      const response = await fetch(target, {
        method: 'POST',
        headers: { authorization: `Token ${lease.value}`, 'content-type': 'text/plain; charset=utf-8' },
        body: `fleet,device=${this.name} value=1i ${Date.now()}`,
        signal: AbortSignal.timeout(this.config.requestTimeout),
      });
      await response.arrayBuffer();
      return { code: response.status === 204 ? 'ok' : `http_${response.status}` };
    });
  }

  private async timed(action: Action, request: () => Promise<Outcome>): Promise<Outcome> {
    const started = Date.now();
    const t0 = performance.now();
    let outcome: Outcome;
    try {
      outcome = await request();
    } catch (err) {
      outcome = { code: outcomeOf(err) };
    }
    this.reporter.sample([started, action, outcome.code, Math.round((performance.now() - t0) * 100) / 100, this.number]);
    return outcome;
  }

  private async backoff(attempt: number, stop: AbortSignal): Promise<void> {
    const delay = Math.min(BACKOFF.max, BACKOFF.first * 2 ** Math.min(attempt, 10));
    await pause(delay * (0.5 + Math.random()), stop);
  }
}

/** A lease API answer as an outcome: `ok` (with the lease, if any) or the failure's code. */
function decode(payload: Uint8Array): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    return { code: 'not_json' };
  }
  const base = ApiResponseSchema.safeParse(value);
  if (!base.success) return { code: 'not_a_response' };
  if (base.data.result === 'failure') return { code: base.data.code ?? 'internal', ...(base.data.message === undefined ? {} : { message: base.data.message }) };
  const lease = LeaseSchema.safeParse((value as { lease?: unknown }).lease);
  return lease.success ? { code: 'ok', lease: lease.data } : { code: 'ok' };
}

/** Waits `ms`, or less if `stop` is aborted first. */
async function pause(ms: number, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return;
  await sleep(ms, undefined, { signal: stop }).catch(() => undefined);
}
