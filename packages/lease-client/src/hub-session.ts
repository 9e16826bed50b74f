import { EventEmitter } from 'node:events';
import { type Clock, ClosedError, describeError, formatRoute, LOCAL, local, type Logger, type LongTimeout, type Message, type Node, type Route, setLongTimeout } from '@tessera/core';
import { createSecureChannel, identifierOf, isIdentifier, type SecureChannel, type Signer, trustFunction, UntrustedPeerError } from '@tessera/secure-channel';
import { InvalidOptionsError } from '@tessera/token-lease';
import { AUTHORITY_WORKER, AuthorityApi } from './authority-api.js';
import { ChannelRequests } from './channel-requests.js';
import { credentialLifetime } from './credential-lifetime.js';
import { EnrollmentRefusedError, HubNotTrustedError, LeaseRejectedError, NotEnrolledError } from './errors.js';

/** The LOCAL address of the hub's secure-channel listener (docs/protocol.md §5). */
export const SECURE_CHANNEL_LISTENER = 'secure_channel';

/** Failures of a request through the channel after which the channel is suspect: the hub restarted, or the channel ended. */
const SUSPECT = new Set(['TimeoutError', 'UnknownAddressError']);

/** A refresh that failed is tried again after half the credential's time left, but not sooner than this. */
const MIN_RETRY_MS = 1_000;

export interface HubSessionOptions {
  /** A running Node with a transport that reaches the hub. */
  node: Node;
  /**
   * The route to the hub's lease worker, as for plaintext (e.g. `3#hub:4000 => token_lease`):
   * its transport hops lead to the hub's node, its last hop names the lease worker.
   */
  hub: Route;
  /** Our identity key. */
  identity: Signer;
  /** A bootstrap token (docs/protocol.md §6), redeemed once if the hub does not know this identity yet. Never logged. */
  enrollToken?: string | undefined;
  /** Trust only a hub with this identifier; without it, any hub that answers (one warning is logged). */
  hubIdentifier?: string | undefined;
  /**
   * `required` (default): a channel is usable only with a credential, so an identity that is
   * not a member and has no token fails with NotEnrolledError. `if-member`: a non-member goes
   * on without one and lets the hub decide each request (an admin named in the hub's settings).
   */
  credential?: 'required' | 'if-member';
  /** Milliseconds to wait for each answer, and for the handshake (default 5,000), on the node's clock. */
  requestTimeout?: number;
  /** Fraction of a credential's life after which a new one is fetched (default 2/3). */
  refreshAt?: number;
  /** The listener's LOCAL address on the hub (default `secure_channel`). */
  listener?: string;
  /** Default: the node's clock. */
  clock?: Clock;
  /** Default: a child of the node's logger. */
  logger?: Logger;
}

/** The events of a HubSession. */
export interface HubSessionEvents {
  /** A channel is open (and holds a credential, unless `if-member` went on without). */
  opened: [{ hub: string }];
  /** The enroll token was redeemed: this identity is a member now. */
  enrolled: [{ identifier: string; attributes: Readonly<Record<string, string>> }];
}

/**
 * Keeps one secure channel to a hub (docs/protocol.md §5) and sends requests
 * to the hub's workers through it: the lease worker, and the `authority` for
 * credentials and enrollment (§6). Opens the channel on first use, one
 * handshake at a time; asks for a credential (enrolling once with the token
 * if the hub does not know us), presents it on the channel and fetches a new
 * one at `refreshAt` of its life. A request that gets no answer makes the
 * channel suspect (the hub may have restarted, losing its end): it is closed,
 * and the next request opens a new one. When the hub closes the channel, the
 * requests in flight on it fail at once with ChannelClosedError (retryable). Neither the token nor a credential
 * reaches a log line or an error.
 */
export class HubSession extends EventEmitter<HubSessionEvents> {
  /** Our identifier. */
  readonly identifier: string;
  /** The route to the hub's listener: the hub route's transport hops, then `secure_channel`. */
  readonly listenerRoute: Route;
  /** The lease worker's LOCAL name: the hub route's last hop. */
  readonly leaseWorker: string;
  private readonly node: Node;
  private readonly identity: Signer;
  private readonly hubIdentifier: string | undefined;
  private readonly mode: 'required' | 'if-member';
  private readonly timeout: number;
  private readonly refreshAt: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  #enrollToken: string | undefined;
  private channel: SecureChannel | undefined;
  private opening: Promise<SecureChannel> | undefined;
  /** Set once the hub refused the token: every later request fails with it, the token is never sent again. */
  private refused: Error | undefined;
  private enrolledHere = false;
  private warnedUnpinned = false;
  private refreshTimer: LongTimeout | undefined;
  private credentialExpiresAt = 0;
  private closed = false;
  /** Requests in flight by channel: failed at once when their channel closes. */
  private readonly requests = new ChannelRequests();

  constructor(options: HubSessionOptions) {
    super();
    const last = options.hub[options.hub.length - 1];
    if (last === undefined || last.type !== LOCAL) throw new InvalidOptionsError('a secure hub route must end with the LOCAL address of the lease worker');
    if (options.hubIdentifier !== undefined && !isIdentifier(options.hubIdentifier)) {
      throw new InvalidOptionsError('hubIdentifier must be an identifier: I and 64 lowercase hex digits');
    }
    const refreshAt = options.refreshAt ?? 2 / 3;
    if (!(refreshAt > 0 && refreshAt < 1)) throw new InvalidOptionsError('refreshAt must be between 0 and 1');
    this.node = options.node;
    this.identity = options.identity;
    this.identifier = identifierOf(options.identity.publicKey);
    this.leaseWorker = last.value;
    this.listenerRoute = Object.freeze([...options.hub.slice(0, -1), local(options.listener ?? SECURE_CHANNEL_LISTENER)]);
    this.hubIdentifier = options.hubIdentifier;
    this.mode = options.credential ?? 'required';
    this.timeout = options.requestTimeout ?? 5_000;
    this.refreshAt = refreshAt;
    this.clock = options.clock ?? options.node.clock;
    this.logger = options.logger ?? options.node.logger.child({ component: 'hub-session' });
    this.#enrollToken = options.enrollToken === '' ? undefined : options.enrollToken;
  }

  /** The hub's identifier while a channel is open. */
  get hub(): string | undefined {
    return this.channel?.isOpen === true ? this.channel.identifier : undefined;
  }

  /** Sends `body` to `worker` on the hub through the channel (opening one first if there is none) and resolves with the answer. */
  async request(worker: string, body: string): Promise<Message> {
    const channel = await this.ready();
    return this.through(channel, worker, body);
  }

  /**
   * Sends `body` to `worker` on the hub through the channel (opening one first
   * if there is none) with `returnRoute` as its return route, and resolves once
   * it is on its way: the answer, and whatever else the worker sends back (a
   * subscription's events, docs/protocol.md §8), arrive at that route.
   */
  async send(worker: string, body: string, returnRoute: Route): Promise<void> {
    const channel = await this.ready();
    this.node.send([channel.address, local(worker)], body, { returnRoute });
  }

  /** Closes the channel (telling the hub) and stops refreshing; later requests fail with ClosedError. */
  close(): void {
    this.closed = true;
    this.refreshTimer?.cancel();
    this.refreshTimer = undefined;
    const channel = this.channel;
    this.channel = undefined;
    channel?.close();
  }

  private ready(): Promise<SecureChannel> {
    if (this.closed) return Promise.reject(new ClosedError('hub session closed'));
    if (this.refused !== undefined) return Promise.reject(this.refused);
    const current = this.channel;
    if (current?.isOpen === true) return Promise.resolve(current);
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async through(channel: SecureChannel, worker: string, body: string): Promise<Message> {
    try {
      return await this.requests.run(channel, () => this.node.request([channel.address, local(worker)], body, { timeout: this.timeout }));
    } catch (err) {
      if (err instanceof Error && SUSPECT.has(err.name)) this.discard(channel, err.name);
      throw err;
    }
  }

  /** Forgets a channel that is suspect or ended; the next request opens a new one. */
  private discard(channel: SecureChannel, why: string): void {
    if (this.channel === channel) {
      this.channel = undefined;
      this.refreshTimer?.cancel();
      this.refreshTimer = undefined;
      this.logger.info({ hub: channel.identifier, why }, 'secure channel to the hub dropped; the next request opens a new one');
    }
    channel.close();
  }

  private async open(): Promise<SecureChannel> {
    let presented: string | undefined;
    const pinned = this.hubIdentifier;
    const trust = trustFunction((peer) => {
      presented = peer.identifier;
      return pinned === undefined || peer.identifier === pinned;
    });
    let channel: SecureChannel;
    try {
      channel = await createSecureChannel(this.node, this.listenerRoute, { identity: this.identity, trust, timeout: this.timeout });
    } catch (err) {
      if (err instanceof UntrustedPeerError && presented !== undefined) {
        throw new HubNotTrustedError(`the hub at ${formatRoute(this.listenerRoute)} is ${presented}, not the trusted ${pinned}; refused`);
      }
      throw err;
    }
    this.requests.watch(channel);
    try {
      if (this.closed) throw new ClosedError('hub session closed');
      if (pinned === undefined && !this.warnedUnpinned) {
        this.warnedUnpinned = true;
        this.logger.warn({ hub: channel.identifier }, 'the hub identity is not pinned: trusting whichever hub answers; pin it (hubIdentifier, --hub-identity) to refuse any other');
      }
      const credential = await this.credentialFor(channel);
      if (this.closed) throw new ClosedError('hub session closed');
      if (credential !== undefined) this.present(channel, credential);
    } catch (err) {
      channel.close();
      throw err;
    }
    this.channel = channel;
    void channel.closed.then(() => this.discard(channel, 'closed'));
    this.logger.info({ hub: channel.identifier }, 'secure channel to the hub open');
    this.emit('opened', { hub: channel.identifier });
    return channel;
  }

  /** A credential from the authority; enrolls first, once, if the hub does not know us and a token was given. */
  private async credentialFor(channel: SecureChannel): Promise<string | undefined> {
    const authority = this.authorityThrough(channel);
    try {
      return await authority.credential();
    } catch (err) {
      if (!(err instanceof LeaseRejectedError) || err.reason !== 'not_allowed') throw err;
    }
    const token = this.#enrollToken;
    if (token === undefined) {
      if (this.mode === 'if-member') return undefined;
      throw new NotEnrolledError(
        this.enrolledHere
          ? `the hub no longer counts ${this.identifier} as a member (removed?)`
          : `${this.identifier} is not a member of the hub: enroll it once with a bootstrap token (--enroll-token or TESSERA_ENROLL_TOKEN)`,
      );
    }
    let enrolled;
    try {
      enrolled = await authority.enroll(token);
    } catch (err) {
      // a timeout or an outage: the token may or may not have been redeemed; the next attempt asks for a credential first.
      // Only `not_allowed` refuses the token itself: `quota_exceeded` or `invalid_request` redeemed nothing, so it is kept
      if (!(err instanceof LeaseRejectedError) || err.reason !== 'not_allowed') throw err;
      this.#enrollToken = undefined;
      this.refused = new EnrollmentRefusedError(
        `the hub refused the enroll token (${err.reason}): it is expired, used up or unknown, or ${this.identifier} is a member already; ask for a new token`,
      );
      throw this.refused;
    }
    this.#enrollToken = undefined;
    this.enrolledHere = true;
    this.logger.info({ identifier: enrolled.identifier, attributes: enrolled.attributes }, 'enrolled with the hub');
    this.emit('enrolled', { identifier: enrolled.identifier, attributes: enrolled.attributes });
    return enrolled.credential;
  }

  private authorityThrough(channel: SecureChannel): AuthorityApi {
    return new AuthorityApi((body) => this.through(channel, AUTHORITY_WORKER, body));
  }

  /** Presents a credential on the channel (docs/protocol.md §5 kind 2) and arms its refresh. */
  private present(channel: SecureChannel, credential: string): void {
    const life = credentialLifetime(credential);
    channel.sendCredentials([credential]);
    this.credentialExpiresAt = this.clock.now() + life;
    this.armRefresh(channel, Math.round(life * this.refreshAt));
  }

  private armRefresh(channel: SecureChannel, delay: number): void {
    this.refreshTimer?.cancel();
    this.refreshTimer = setLongTimeout(
      this.clock,
      () => {
        this.refreshTimer = undefined;
        void this.refresh(channel);
      },
      delay,
    );
  }

  private async refresh(channel: SecureChannel): Promise<void> {
    if (this.closed || this.channel !== channel || !channel.isOpen) return;
    try {
      const credential = await this.authorityThrough(channel).credential();
      if (this.closed || this.channel !== channel || !channel.isOpen) return;
      this.present(channel, credential);
      this.logger.debug({ hub: channel.identifier }, 'credential refreshed');
    } catch (err) {
      // no answer: `through` dropped the channel, and the next one gets a fresh credential
      if (this.closed || !channel.isOpen) return;
      const left = this.credentialExpiresAt - this.clock.now();
      this.logger.warn({ err: describeError(err), left }, 'credential refresh failed');
      if (left > 2 * MIN_RETRY_MS) this.armRefresh(channel, Math.max(MIN_RETRY_MS, Math.round(left / 2)));
    }
  }
}
