import { type Address, formatAddress, LOCAL, local, toAddress } from './address.js';
import { type Clock, systemClock } from './clock.js';
import { Context, type WorkerFunction } from './context.js';
import {
  AccessDeniedError,
  AddressInUseError,
  ClosedError,
  InvalidAddressError,
  MailboxFullError,
  NoTransportError,
  TimeoutError,
  UnknownAddressError,
} from './errors.js';
import { IncomingAccess } from './incoming-access.js';
import { consoleLogger, type Logger } from './logger.js';
import { Mailbox } from './mailbox.js';
import { type LocalInfo, type Message, NO_LOCAL_INFO, utf8 } from './message.js';
import { toRoute, type Route } from './route.js';
import { randomId64 } from './random-id.js';
import { type RouteOutcome, Router, type Sink } from './router.js';
import type { Transport } from './transport.js';
import type { MailboxPolicy, Worker, WorkerOptions } from './worker.js';

/** Bytes, or a string sent as its UTF-8 bytes. */
export type Payload = Uint8Array | string;

export interface NodeOptions {
  /** A name for logs. */
  name?: string;
  logger?: Logger;
  clock?: Clock;
  /** Default mailbox capacity of a worker (10,000). */
  mailboxCapacity?: number;
  /** Default full-mailbox policy (`drop-newest`). */
  mailboxPolicy?: MailboxPolicy;
  /** Default request timeout in ms (10,000). */
  requestTimeout?: number;
}

export interface SendOptions {
  /** The return route (default: empty, nobody to answer). */
  returnRoute?: Route;
  /** Local information to attach (never crosses the wire). */
  local?: LocalInfo;
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply. */
  timeout?: number;
}

export interface StopOptions {
  /** How long mailboxes may take to drain before they are cut off (5,000 ms). */
  timeout?: number;
}

export type NodeState = 'running' | 'stopping' | 'stopped';

export interface SinkOptions {
  /** Who may reach the sink (default: anyone). */
  incoming?: IncomingAccess;
}

interface WorkerEntry {
  readonly ctx: Context;
  readonly worker: Worker;
  readonly mailbox: Mailbox;
}

interface PendingRequest {
  resolve(msg: Message): void;
  reject(err: Error): void;
  timer: unknown;
}

/** A request's reply address is this and 64 random bits (docs/protocol.md §2 rule 3). */
const REQUEST_PREFIX = '_request.';

/** Hosts workers at LOCAL addresses and routes messages between them and transports. */
export class Node {
  readonly name: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly router = new Router();
  private readonly workers = new Map<string, WorkerEntry>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly options: Required<Pick<NodeOptions, 'mailboxCapacity' | 'mailboxPolicy' | 'requestTimeout'>>;
  private handlerErrorCount = 0;
  private stateValue: NodeState = 'running';
  private stopping: Promise<void> | undefined;

  constructor(options: NodeOptions = {}) {
    this.name = options.name ?? 'node';
    this.logger = options.logger ?? consoleLogger('warn', { node: this.name });
    this.clock = options.clock ?? systemClock;
    this.options = {
      mailboxCapacity: options.mailboxCapacity ?? 10_000,
      mailboxPolicy: options.mailboxPolicy ?? 'drop-newest',
      requestTimeout: options.requestTimeout ?? 10_000,
    };
  }

  get state(): NodeState {
    return this.stateValue;
  }

  /** Starts a worker at a LOCAL address; resolves once its `initialize` has run. */
  async startWorker(at: Address | string, worker: Worker | WorkerFunction, options: WorkerOptions = {}): Promise<Context> {
    this.assertRunning();
    const address = toAddress(at);
    if (address.type !== LOCAL) throw new InvalidAddressError(`workers live at LOCAL addresses, not ${formatAddress(address)}`);
    const name = address.value;
    if (this.router.hasLocal(name)) throw new AddressInUseError(`address ${formatAddress(address)} is in use`);
    const impl: Worker = typeof worker === 'function' ? { handleMessage: worker } : worker;
    const ctx = new Context(this, address, this.logger.child({ worker: name }));
    const mailbox = new Mailbox(
      (msg) => impl.handleMessage(ctx, msg),
      (err) => {
        this.handlerErrorCount++;
        ctx.logger.error({ err: describe(err) }, 'worker handler failed');
      },
      () => this.router.drop('mailbox_full'),
      options.mailboxCapacity ?? this.options.mailboxCapacity,
      options.mailboxPolicy ?? this.options.mailboxPolicy,
    );
    const entry: WorkerEntry = { ctx, worker: impl, mailbox };
    this.router.addLocal(name, (msg) => mailbox.push(msg), openToAll(options.incoming));
    this.workers.set(name, entry);
    try {
      await impl.initialize?.(ctx);
    } catch (err) {
      this.router.removeLocal(name);
      this.workers.delete(name);
      throw err;
    }
    return ctx;
  }

  /** Stops a worker: no new messages, its mailbox drains, then its `shutdown` runs. */
  async stopWorker(at: Address | string, options: StopOptions = {}): Promise<void> {
    const name = toAddress(at).value;
    const entry = this.workers.get(name);
    if (entry === undefined) throw new UnknownAddressError(`no worker at ${name}`);
    this.router.removeLocal(name);
    this.workers.delete(name);
    await this.retire(entry, options.timeout ?? 5_000);
  }

  /** Names of the running workers. */
  workerAddresses(): string[] {
    return [...this.workers.keys()];
  }

  /** Sends a payload along a route. Undeliverable messages are dropped and counted. */
  send(route: Route | Address | string, payload: Payload, options: SendOptions = {}): RouteOutcome {
    return this.route({
      onward: toRoute(route),
      return: options.returnRoute ?? [],
      payload: typeof payload === 'string' ? utf8(payload) : payload,
      local: options.local ?? NO_LOCAL_INFO,
    });
  }

  /** Routes a whole message (docs/protocol.md §2). Transports call this for what they receive. */
  route(msg: Message): RouteOutcome {
    if (this.stateValue === 'stopped') return this.router.drop('stopped');
    return this.router.route(msg);
  }

  /**
   * Sends and resolves with the first reply; rejects with TimeoutError, or at
   * once when the route fails locally. The reply address is unguessable and
   * takes one message, then is gone, so no peer can answer a request it did
   * not receive (docs/protocol.md §2).
   */
  request(route: Route | Address | string, payload: Payload, options: RequestOptions = {}): Promise<Message> {
    if (this.stateValue !== 'running') return Promise.reject(new ClosedError(`node ${this.name} is ${this.stateValue}`));
    const onward = toRoute(route);
    const timeout = options.timeout ?? this.options.requestTimeout;
    return new Promise<Message>((resolve, reject) => {
      // the sink takes one message: the first reply settles the request and unregisters the address
      const name = this.replyAddress((msg) => {
        entry.resolve(msg);
        return true;
      });
      const finish = () => {
        this.router.removeLocal(name);
        this.pending.delete(name);
      };
      const timer = this.clock.setTimeout(() => {
        finish();
        reject(new TimeoutError(`no reply from ${onward.map(formatAddress).join(' => ')} within ${timeout} ms`));
      }, timeout);
      const entry: PendingRequest = {
        resolve: (msg) => {
          this.clock.clearTimeout(timer);
          finish();
          resolve(msg);
        },
        reject: (err) => {
          this.clock.clearTimeout(timer);
          finish();
          reject(err);
        },
        timer,
      };
      this.pending.set(name, entry);
      const outcome = this.send(onward, payload, { returnRoute: [local(name)] });
      const failure = localFailure(outcome, onward);
      if (failure !== undefined) entry.reject(failure);
    });
  }

  /** Registers `sink` at a fresh reply address: the prefix and 64 random bits, so no peer can guess it. */
  private replyAddress(sink: Sink): string {
    for (;;) {
      const name = `${REQUEST_PREFIX}${randomId64()}`;
      // taken only if someone named a worker like this on purpose: draw again
      if (this.router.addLocal(name, sink)) return name;
    }
  }

  /**
   * Fails at once the local request that `returnRoute` leads back to, if any:
   * a transport that has to drop a message uses it so the sender need not wait
   * for its timeout. True if a request was failed.
   */
  failRequest(returnRoute: Route, err: Error): boolean {
    const head = returnRoute[0];
    if (head === undefined || head.type !== LOCAL || returnRoute.length !== 1) return false;
    const entry = this.pending.get(head.value);
    if (entry === undefined) return false;
    entry.reject(err);
    return true;
  }

  /** Registers a transport for its address type. */
  registerTransport(transport: Transport): void {
    if (!this.router.addTransport(transport)) {
      throw new AddressInUseError(`a transport for address type ${transport.type} is registered already`);
    }
  }

  /** Registers a LOCAL address served by a plain function (transports use it for connections); returns its unregister. */
  registerSink(name: string, sink: Sink, options: SinkOptions = {}): () => void {
    if (!this.router.addLocal(name, sink, openToAll(options.incoming))) throw new AddressInUseError(`address 0#${name} is in use`);
    return () => this.router.removeLocal(name);
  }

  /** Counters: dropped messages by reason, handler errors, workers, pending requests. */
  stats(): { dropped: Record<string, number>; handlerErrors: number; workers: number; pendingRequests: number } {
    return {
      dropped: this.router.drops.toJSON(),
      handlerErrors: this.handlerErrorCount,
      workers: this.workers.size,
      pendingRequests: this.pending.size,
    };
  }

  /**
   * Graceful shutdown: transports stop accepting, mailboxes drain up to the
   * deadline, workers shut down, pending requests fail with ClosedError,
   * transports close.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.timeout ?? 5_000);
    return this.stopping;
  }

  private async doStop(timeout: number): Promise<void> {
    this.stateValue = 'stopping';
    const transports = this.router.allTransports();
    await Promise.allSettled(transports.map((t) => t.stopAccepting?.()));
    const deadline = this.clock.now() + timeout;
    const entries = [...this.workers.values()];
    for (const entry of entries) this.router.removeLocal(entry.ctx.address.value);
    this.workers.clear();
    await Promise.allSettled(entries.map((e) => this.retire(e, Math.max(0, deadline - this.clock.now()))));
    for (const p of [...this.pending.values()]) p.reject(new ClosedError(`node ${this.name} stopped`));
    await Promise.allSettled(transports.map((t) => t.stop()));
    this.stateValue = 'stopped';
  }

  private async retire(entry: WorkerEntry, timeout: number): Promise<void> {
    entry.mailbox.close();
    let timer: unknown;
    const deadline = new Promise<'late'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('late'), timeout);
    });
    const drained = await Promise.race([entry.mailbox.idle().then(() => 'idle' as const), deadline]);
    this.clock.clearTimeout(timer);
    if (drained === 'late') {
      entry.ctx.logger.warn({ left: entry.mailbox.size }, 'mailbox not drained before the deadline; dropping the rest');
      entry.mailbox.discard();
    }
    try {
      await entry.worker.shutdown?.(entry.ctx);
    } catch (err) {
      entry.ctx.logger.error({ err: describe(err) }, 'worker shutdown failed');
    }
  }

  private assertRunning(): void {
    if (this.stateValue !== 'running') throw new ClosedError(`node ${this.name} is ${this.stateValue}`);
  }
}

/** `any` is stored as no policy at all, so an open address costs no call per message. */
function openToAll(incoming: IncomingAccess | undefined): IncomingAccess | undefined {
  return incoming === IncomingAccess.any ? undefined : incoming;
}

function localFailure(outcome: RouteOutcome, onward: Route): Error | undefined {
  const where = onward.map(formatAddress).join(' => ');
  switch (outcome) {
    case 'unknown_address':
      return new UnknownAddressError(`no worker at ${where}`);
    case 'no_transport':
      return new NoTransportError(`no transport for ${where}`);
    case 'mailbox_full':
      return new MailboxFullError(`mailbox full at ${where}`);
    case 'access_denied':
      return new AccessDeniedError(`${where} does not accept messages from this sender`);
    case 'empty_onward':
      return new UnknownAddressError('the route is empty');
    case 'stopped':
      return new ClosedError('the node is stopped');
    default:
      return undefined;
  }
}

/** An error as log fields: name, code and message, never the whole object. */
export function describe(err: unknown): { name: string; code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { name: err.name, code, message: err.message } : { name: err.name, message: err.message };
  }
  return { name: 'NonError', message: String(err) };
}
