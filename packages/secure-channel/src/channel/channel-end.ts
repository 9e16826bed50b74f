import { IncomingAccess, LOCAL, NO_LOCAL_INFO, type Address, type LocalInfo, type Message, type Node, type Route } from '@tessera/core';
import { FrameReceiver } from '../frame/frame-receiver.js';
import { FrameSender } from '../frame/frame-sender.js';
import { decodePlaintext, encodePlaintext, type ChannelMessage, type Plaintext } from '../frame/plaintext.js';
import type { EstablishedChannel, Peer } from '../handshake/peer.js';
import type { Admission, TrustPolicy } from '../trust/trust-policy.js';
import { ChannelClosedError } from '../channel-errors.js';
import { freshAddress } from './channel-address.js';
import type { ChannelDropReason, ChannelDrops } from './channel-drops.js';

/** A batch is sent at once when its payloads reach this many bytes, well below a WebSocket message's 1 MiB. */
const BATCH_BYTES = 64 * 1024;
/** ...or this many messages. */
const BATCH_MESSAGES = 512;

/** What a channel end needs once its handshake is over. */
/** Newer credentials (kind 2) are checked at most this often per channel (ms); more often they are dropped as garbage. */
const READMIT_INTERVAL = 1_000;

export interface ChannelEndOptions {
  node: Node;
  established: EstablishedChannel;
  admission: Admission;
  policy: TrustPolicy;
  /** The channel address (where the peer sends ciphertexts), registered by the handshake. */
  decryptor: { address: Address; unregister: () => void };
  /** Where ciphertexts for the peer go: the return route of its last authenticated message. */
  peerRoute: Route;
  /** Batch what is queued in one turn of the event loop into one ciphertext (default true). */
  batching: boolean;
  /** Route decrypted messages whose onward starts with a non-LOCAL address (default false: dropped). */
  forwarding: boolean;
  drops: ChannelDrops;
  /** Milliseconds without an authenticated message from the peer after which this end closes (0 or absent: never). */
  idleTimeout?: number;
  /** Called when the end closes for having heard nothing for `idleTimeout`, before it closes. */
  onIdle?: () => void;
  onClosed?: () => void;
}

/** Counters of one channel end. */
export interface ChannelEndStats {
  peer: string;
  sent: number;
  received: number;
  dropped: Record<ChannelDropReason, number>;
}

/**
 * One end of an established channel (docs/protocol.md §5). Two addresses,
 * two jobs: the encryptor (`address`, open to senders on this node only:
 * IncomingAccess.local) seals what its node routes to it and sends it to the
 * peer; the channel address (decryptor) opens what the peer sends and routes
 * it on this node with the peer's identity, never back out as ciphertext's
 * plaintext for someone else to read.
 */
export class ChannelEnd {
  /** A kind-2 re-admission under way, and when the last began (ms on the clock). */
  private readmitting = false;
  private lastReadmit = Number.NEGATIVE_INFINITY;
  /** The encryptor: put it first in a route to reach the peer's node through the channel. */
  readonly address: Address;
  readonly peer: Peer;
  /** Resolves when the channel ends, by either side. */
  readonly closed: Promise<void>;
  private readonly node: Node;
  private readonly sender: FrameSender;
  private readonly receiver: FrameReceiver;
  private readonly unregisterEncryptor: () => void;
  private readonly returnRoute: Route;
  private peerRoute: Route;
  private admission: Admission;
  private localInfo: LocalInfo;
  private queue: ChannelMessage[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private received = 0;
  private ended = false;
  private resolveClosed!: () => void;
  /** When the last authenticated message from the peer came (the handshake's last counts), on the node's clock. */
  private lastHeard: number;
  private idleTimer: unknown;

  constructor(private readonly options: ChannelEndOptions) {
    this.node = options.node;
    this.peer = options.established.peer;
    this.sender = new FrameSender(options.established.send);
    this.receiver = new FrameReceiver(options.established.receive);
    this.peerRoute = options.peerRoute;
    this.returnRoute = Object.freeze([options.decryptor.address]);
    this.admission = options.admission;
    this.localInfo = this.infoOf(options.admission);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const encryptor = freshAddress(this.node, 'sc.enc.', (msg) => this.encrypt(msg), { incoming: IncomingAccess.local });
    this.address = encryptor.address;
    this.unregisterEncryptor = encryptor.unregister;
    this.lastHeard = this.node.clock.now();
    this.armIdle(options.idleTimeout ?? 0);
  }

  /** One timer per end: when it fires it closes the end, or re-arms for what is left since the last authenticated message. */
  private armIdle(ms: number): void {
    const idleTimeout = this.options.idleTimeout ?? 0;
    if (idleTimeout <= 0) return;
    this.idleTimer = this.node.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.ended) return;
      const quiet = this.node.clock.now() - this.lastHeard;
      if (quiet < idleTimeout) return this.armIdle(idleTimeout - quiet);
      this.options.onIdle?.();
      this.close();
    }, ms);
  }

  /** The peer's identifier. */
  get identifier(): string {
    return this.peer.identifier;
  }

  /** The attributes of the peer's valid credentials, as its delivered messages carry them. */
  get attributes(): Readonly<Record<string, string>> {
    return this.admission.attributes;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** A message from this node for the peer: onward beyond the encryptor, its return, its payload. */
  private encrypt(msg: Message): boolean {
    if (this.ended) return false;
    const message: ChannelMessage = { onward: msg.onward.slice(1), return: msg.return, payload: msg.payload };
    if (!this.options.batching) {
      this.seal({ kind: 'message', message });
      return true;
    }
    this.queue.push(message);
    this.queuedBytes += message.payload.length;
    if (this.queuedBytes >= BATCH_BYTES || this.queue.length >= BATCH_MESSAGES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // what the node routes to us during this turn of the event loop goes out as one ciphertext
      setImmediate(this.flush);
    }
    return true;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queue = this.queue;
    if (queue.length === 0 || this.ended) return;
    this.queue = [];
    this.queuedBytes = 0;
    this.seal(queue.length === 1 ? { kind: 'message', message: queue[0]! } : { kind: 'batch', messages: queue });
  };

  private seal(plaintext: Plaintext): void {
    const payload = this.sender.seal(encodePlaintext(plaintext));
    this.node.route({ onward: this.peerRoute, return: this.returnRoute, payload, local: NO_LOCAL_INFO });
  }

  /** A message that reached the channel address: a ciphertext from the peer, or something dropped and counted. */
  decrypt(msg: Message): void {
    if (this.ended) return;
    const opened = this.receiver.open(msg.payload);
    if (!opened.ok) return this.options.drops.add(opened.reason);
    this.lastHeard = this.node.clock.now();
    // roaming: the newest authenticated message says how to reach the peer now (e.g. after it reconnected)
    if (opened.counter === this.receiver.highestAccepted && msg.return.length > 0) this.peerRoute = msg.return;
    let plaintext: Plaintext;
    try {
      plaintext = decodePlaintext(opened.plaintext);
    } catch {
      return this.options.drops.add('garbage');
    }
    switch (plaintext.kind) {
      case 'message':
        return this.deliver(plaintext.message);
      case 'batch':
        for (const m of plaintext.messages) this.deliver(m);
        return;
      case 'close':
        return this.end();
      case 'credentials':
        // one re-admission at a time and at most one a second: each costs signature checks
        if (this.readmitting || this.node.clock.now() - this.lastReadmit < READMIT_INTERVAL) return this.options.drops.add('garbage');
        this.readmitting = true;
        this.lastReadmit = this.node.clock.now();
        void this.readmit(plaintext.credentials).finally(() => (this.readmitting = false));
        return;
    }
  }

  private deliver(m: ChannelMessage): void {
    if (this.node.clock.now() >= this.admission.validUntil) return this.options.drops.add('untrusted_peer');
    const head = m.onward[0];
    if (!this.options.forwarding && (head === undefined || head.type !== LOCAL)) return this.options.drops.add('forwarding_refused');
    this.received++;
    this.node.route({ onward: m.onward, return: [this.address, ...m.return], payload: m.payload, local: this.localInfo });
  }

  /** Newer credentials from the peer (kind 2): admitted again under the policy, or counted and ignored. */
  private async readmit(credentials: readonly string[]): Promise<void> {
    try {
      const admission = await this.options.policy.admit({ ...this.peer, credentials }, this.node.clock);
      if (admission === undefined) return this.options.drops.add('untrusted_peer');
      this.admission = admission;
      this.localInfo = this.infoOf(admission);
    } catch {
      this.options.drops.add('untrusted_peer');
    }
  }

  /** Sends newer credentials for our identity to the peer (kind 2). */
  sendCredentials(credentials: readonly string[]): void {
    if (this.ended) throw new ChannelClosedError('the channel is closed');
    this.flush();
    this.seal({ kind: 'credentials', credentials });
  }

  /** Ends the channel on both sides: what is queued goes out, then a close (kind 1); both addresses are gone. */
  close(): void {
    if (this.ended) return;
    this.flush();
    this.seal({ kind: 'close' });
    this.end();
  }

  /** Ends this side without telling the peer (its node is stopping, or the peer closed). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.node.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.queue = [];
    this.unregisterEncryptor();
    this.options.decryptor.unregister();
    this.options.onClosed?.();
    this.resolveClosed();
  }

  stats(): ChannelEndStats {
    return { peer: this.peer.identifier, sent: this.sender.counter, received: this.received, dropped: this.options.drops.toJSON() };
  }

  private infoOf(admission: Admission): LocalInfo {
    const info: LocalInfo = { identity: this.peer.identifier, attributes: admission.attributes };
    // a connection's address is LOCAL too: only an end that forwards may hand its peer's messages to another peer
    return Object.freeze(this.options.forwarding ? { ...info, forwardable: true } : info);
  }
}
