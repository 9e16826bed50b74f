import { EventEmitter } from 'node:events';
import {
  type BackoffPolicy,
  backoffDelay,
  type Clock,
  type Context,
  describeError,
  fromUtf8,
  LOCAL,
  local,
  type Logger,
  type Message,
  type Node,
  randomId64,
  type Route,
  sleep,
  toRoute,
} from '@tessera/core';
import { decodeResponse, HubSession } from '@tessera/lease-client';
import type { Signer } from '@tessera/secure-channel';
import { InvalidRelayOptionsError, RelayClosedError } from './errors.js';
import { checkRelayName, forwarderName } from './relay-name.js';
import { AttachedSchema, CreatedSchema, DeletedSchema, RELAY_SERVICE } from './relay-protocol.js';

export interface CreateRelayOptions {
  /** Our identity: `create` goes through a secure channel with it, and the hub binds the name to it. */
  identity: Signer;
  /** The relay name (RELAY_NAME_PATTERN). */
  name: string;
  /** Trust only a hub with this identifier (default: any hub that answers; HubSession logs a warning). */
  hubIdentifier?: string;
  /** A bootstrap token, redeemed once if the hub does not know this identity yet. Never logged. */
  enrollToken?: string;
  /** The relay service's LOCAL address on the hub (default `relay`). */
  service?: string;
  /** Milliseconds between liveness checks through the relay (default 10,000). */
  pingInterval?: number;
  /** Milliseconds to wait for each answer (default 5,000). */
  requestTimeout?: number;
  /**
   * Keep the relay even though a transport of the node sends peers' messages
   * on (a WebSocket transport with `forwarding` on): then anyone who reaches
   * the hub can make this node dial any address it can reach. Default false:
   * `start` refuses such a node (InvalidRelayOptionsError).
   */
  allowForwarding?: boolean;
  /** Back-off between registration attempts (default 500 ms doubling to 30 s, ±20 %). */
  backoff?: Partial<BackoffPolicy>;
  clock?: Clock;
  logger?: Logger;
}

/** The events of a Relay. */
export interface RelayEvents {
  /** The hub forwards `address` to this node (first registration, and again after each loss). */
  registered: [{ name: string; route: Route }];
  /** A registration or a liveness check failed; the next attempt comes after `delay` ms. */
  retrying: [{ err: Error; attempt: number; delay: number }];
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialDelay: 500, maxDelay: 30_000, factor: 2, jitter: 0.2 };

/**
 * A relay held at a hub for a node that can dial out but cannot be dialled
 * (packages/relay/README.md). It registers the name (`create` through a secure channel,
 * then `attach` straight over this node's connection to the hub), then checks
 * every `pingInterval` that a message sent through the relay comes back to
 * this node; when one does not (the connection dropped and came back on
 * another, the hub restarted) it registers again, with back-off.
 *
 * Anyone who reaches the hub reaches this node's workers through the relay, as
 * messages from the hub's connection: each worker decides who may reach it
 * (e.g. `incoming: throughSecureChannel(...)`, and a secure-channel listener
 * for peers to open channels through the relay). The node's WebSocket
 * transport must run with `forwarding: false` (start refuses it otherwise,
 * unless `allowForwarding`), or a message through the relay could make it
 * dial other addresses.
 */
export class Relay extends EventEmitter<RelayEvents> {
  readonly name: string;
  /** How others reach this node: the hub's transport hops, then `forward_to_<name>`. Append a worker's address. */
  readonly route: Route;
  private readonly session: HubSession;
  private readonly hops: Route;
  private readonly service: string;
  private readonly pingInterval: number;
  private readonly timeout: number;
  private readonly backoff: BackoffPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly allowForwarding: boolean;
  private readonly stop = new AbortController();
  private pingAddress: string | undefined;
  private registeredOnce: Promise<void>;
  private resolveRegistered!: () => void;
  private rejectRegistered!: (error: Error) => void;
  private running: Promise<void> | undefined;
  /** Set once a `create` succeeded: from then on the hub may hold the name for us, and close deletes it. */
  private created = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly node: Node,
    hubRoute: Route,
    options: CreateRelayOptions,
  ) {
    super();
    if (hubRoute.length === 0 || hubRoute.some((a) => a.type === LOCAL)) throw new InvalidRelayOptionsError('the hub route is its transport hops only (e.g. 3#hub:4000)');
    // `attach` binds the relay to the connection it arrives on: through another hub that would be that hub's connection
    if (hubRoute.length > 1) throw new InvalidRelayOptionsError('a relay is kept at a hub the device reaches directly: the hub route is one transport hop');
    this.name = checkRelayName(options.name);
    this.hops = Object.freeze([...hubRoute]);
    this.service = options.service ?? RELAY_SERVICE;
    this.route = Object.freeze([...hubRoute, local(forwarderName(this.name))]);
    this.allowForwarding = options.allowForwarding ?? false;
    this.pingInterval = options.pingInterval ?? 10_000;
    this.timeout = options.requestTimeout ?? 5_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.clock = options.clock ?? node.clock;
    this.logger = options.logger ?? node.logger.child({ component: 'relay', relay: this.name });
    this.session = new HubSession({
      node,
      hub: [...hubRoute, local(this.service)],
      identity: options.identity,
      hubIdentifier: options.hubIdentifier,
      enrollToken: options.enrollToken,
      requestTimeout: this.timeout,
      clock: this.clock,
      logger: this.logger,
    });
    this.registeredOnce = new Promise((resolve, reject) => {
      this.resolveRegistered = resolve;
      this.rejectRegistered = reject;
    });
    // nobody need ask: a close before the first registration is not an unhandled rejection
    this.registeredOnce.catch(() => undefined);
  }

  /**
   * Starts the ping worker and the registration loop; resolves at once.
   * Throws InvalidRelayOptionsError when a transport of the node sends peers'
   * messages on, unless `allowForwarding`.
   */
  async start(): Promise<void> {
    if (this.running !== undefined) return;
    if (!this.allowForwarding && this.node.router.allTransports().some((t) => t.forwardsPeers === true)) {
      throw new InvalidRelayOptionsError(
        "this node sends peers' messages on (a WebSocket transport with forwarding on): through the relay anyone who reaches the hub could make it dial any address; make its transport with { forwarding: false }, or pass allowForwarding: true",
      );
    }
    const address = `relay_ping.${randomId64()}`;
    // it answers the liveness checks that come back through the relay with what they carry, nothing else
    await this.node.startWorker(address, (ctx: Context, msg: Message) => ctx.reply(msg, msg.payload), { mailboxCapacity: 16 });
    this.pingAddress = address;
    this.running = this.run();
  }

  /** Resolves once the relay was registered (the first time); rejects with RelayClosedError if it is closed before that. */
  registered(): Promise<void> {
    return this.registeredOnce;
  }

  /**
   * Stops keeping the relay and frees the name at the hub: once a request
   * under way has ended (at most `requestTimeout`), a `delete` through the
   * channel, after which the hub stops `forward_to_<name>` and the name is
   * free. When the hub does not answer it (unreachable, restarted), the name
   * stays bound to our identity there until the hub restarts; close resolves
   * either way, and never throws.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stop.abort();
    this.rejectRegistered(new RelayClosedError(`relay ${this.name} was closed before it was registered`));
    // a create under way must end before the delete, or the name it binds would stay
    await this.running;
    if (this.created) await this.deleteAtHub();
    this.session.close();
    if (this.pingAddress !== undefined) await this.node.stopWorker(this.pingAddress).catch(() => undefined);
  }

  /** `delete` through the channel; a failure is logged, not thrown (the hub frees the name at its restart). */
  private async deleteAtHub(): Promise<void> {
    try {
      const reply = await this.session.request(this.service, JSON.stringify({ action: 'delete', name: this.name }));
      decodeResponse(reply.payload, 'delete', 'relay service', DeletedSchema);
      this.logger.info({}, 'relay deleted at the hub');
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'the hub did not delete the relay; the name stays bound to this identity there until the hub restarts');
    }
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stop.signal.aborted) {
      try {
        await this.register();
        attempt = 0;
        this.logger.info({ route: this.route.map((a) => `${a.type}#${a.value}`).join(' => ') }, 'relay registered');
        this.emit('registered', { name: this.name, route: this.route });
        this.resolveRegistered();
        for (;;) {
          await sleep(this.pingInterval, this.clock, this.stop.signal);
          if (this.stop.signal.aborted) return;
          await this.ping();
        }
      } catch (err) {
        if (this.stop.signal.aborted) return;
        const delay = backoffDelay(attempt, this.backoff);
        attempt++;
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.warn({ err: describeError(error), attempt, delay }, 'relay lost or not registered; trying again');
        this.emit('retrying', { err: error, attempt, delay });
        await sleep(delay, this.clock, this.stop.signal);
      }
    }
  }

  /** `create` through the channel, then `attach` over our own connection with the ticket. */
  private async register(): Promise<void> {
    const created = decodeResponse(
      (await this.session.request(this.service, JSON.stringify({ action: 'create', name: this.name }))).payload,
      'create',
      'relay service',
      CreatedSchema,
    );
    this.created = true;
    const attach = JSON.stringify({ action: 'attach', ticket: created.ticket });
    const reply = await this.node.request([...this.hops, local(this.service)], attach, { timeout: this.timeout });
    decodeResponse(reply.payload, 'attach', 'relay service', AttachedSchema);
  }

  /** A message through the relay to our own ping worker must come back with what it carried. */
  private async ping(): Promise<void> {
    const nonce = randomId64();
    const reply = await this.node.request([...this.route, local(this.pingAddress ?? '')], nonce, { timeout: this.timeout });
    if (fromUtf8(reply.payload) !== nonce) throw new Error('the relay answered a liveness check wrongly');
  }
}

/** Creates and starts a Relay (see Relay). `hubRoute` is the hub's transport hops, e.g. `3#hub:4000`. */
export async function createRelay(node: Node, hubRoute: Route | string, options: CreateRelayOptions): Promise<Relay> {
  const relay = new Relay(node, toRoute(hubRoute), options);
  await relay.start();
  return relay;
}
