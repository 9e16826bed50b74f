import type { Message, Node, Worker } from '@tessera/core';
import { ResponderHandshake } from '../handshake/xx-handshake.js';
import type { Signer } from '../identity/signer.js';
import { MAX_MESSAGE_LENGTH } from '../noise/handshake-state.js';
import type { TrustPolicy } from '../trust/trust-policy.js';
import { UntrustedPeerError } from '../errors.js';
import type { Peer } from '../handshake/peer.js';
import { AdmissionCheck } from './admission-check.js';
import { freshAddress } from './channel-address.js';
import { readHandshakeMessage } from './read-handshake-message.js';
import { ChannelDrops, type ChannelDropReason } from './channel-drops.js';
import { ChannelEnd } from './channel-end.js';
import { HalfOpenHandshakes } from './half-open-handshakes.js';
import { partyFor } from './party-cache.js';
import { PlacesPerIdentity } from './places-per-identity.js';

/** Ciphertexts a channel end holds while its trust check finishes: at most the bytes of one WebSocket message. */
const MAX_BACKLOG_BYTES = 1024 * 1024;
/** ... and at most this many of them (an empty payload costs no bytes but still holds a message and its routes). */
const MAX_BACKLOG_MESSAGES = 1_024;

/** Options of startSecureChannelListener. */
export interface SecureChannelListenerOptions {
  /** Our identity key. */
  identity: Signer;
  /** Which peers may open a channel. */
  trust: TrustPolicy;
  /** Credentials about us we present to peers. */
  credentials?: readonly string[];
  /** The listener's LOCAL address (default `secure_channel`). */
  address?: string;
  /** Milliseconds a handshake may take from message 1 to message 3 (default 10,000), on the node's clock. */
  timeout?: number;
  /**
   * Half-open handshakes held at once (default 1,024). When they are all
   * taken, a new first message takes the place of the oldest half-open
   * handshake of the source holding the most (dropped, counted
   * `handshake_evicted`): sources that flood push out their own handshakes,
   * not an honest initiator's.
   */
  maxHandshakes?: number;
  /**
   * Half-open handshakes held at once for one source, default 256: one peer
   * cannot take every half-open place alone. The source is the transport
   * connection message 1 came in on; for one that came through a channel
   * (no connection), the identity of that channel's peer; local senders share one.
   */
  maxHandshakesPerConnection?: number;
  /**
   * Channels held at once (default 10,000), half-open handshakes included:
   * each may become a channel. A first message beyond is dropped and counted
   * (`handshake_limit`); while some of the places are half-open, it takes
   * the place of one as under `maxHandshakes`.
   */
  maxChannels?: number;
  /**
   * Channels held at once for one peer identity (default 64), handshakes
   * whose message 3 has come included. One more is refused after its message
   * 3, as an untrusted peer is: nothing more is sent, the handshake is
   * dropped and counted (`identity_limit`).
   */
  maxChannelsPerIdentity?: number;
  /**
   * Milliseconds a channel end waits for an authenticated message from its
   * peer before it closes (a close, kind 1, tells the peer), on the node's
   * clock; 0 (the default) never. A peer that crashed or went away without a
   * close does not hold its place for ever.
   */
  idleTimeout?: number;
  /** Batch what is queued in one turn of the event loop (default true). */
  batching?: boolean;
  /** Let peers route decrypted messages on to non-LOCAL addresses (default false). */
  forwarding?: boolean;
  /** Called with each channel once its handshake is over. */
  onChannel?: (channel: ChannelEnd) => void;
}

/** Counters of a listener: its drops (its channels' included), half-open handshakes and open channels. */
export interface SecureChannelListenerStats {
  dropped: Record<ChannelDropReason, number>;
  handshakes: number;
  channels: number;
  accepted: number;
  /** Channels closed because their peer sent nothing for `idleTimeout`. */
  idleClosed: number;
}

/** A running listener. */
export interface SecureChannelListener {
  readonly address: string;
  /** Our identifier, which peers see. */
  readonly identifier: string;
  stats(): SecureChannelListenerStats;
  /** The open channels. */
  channels(): ChannelEnd[];
  /** Stops the listener worker; its channels end (without telling their peers) and its handshakes are dropped. */
  stop(): Promise<void>;
}

/**
 * Starts the secure-channel listener (docs/protocol.md §5): each first
 * handshake message gets a channel end at a fresh unguessable address that
 * answers with message 2 and takes message 3; then the channel carries
 * encrypted messages until either side closes it.
 */
export async function startSecureChannelListener(node: Node, options: SecureChannelListenerOptions): Promise<SecureChannelListener> {
  const party = await partyFor(options.identity, options.credentials);
  const address = options.address ?? 'secure_channel';
  const timeout = options.timeout ?? 10_000;
  const maxHandshakes = options.maxHandshakes ?? 1024;
  const maxChannels = options.maxChannels ?? 10_000;
  const maxPerConnection = options.maxHandshakesPerConnection ?? 256;
  const maxPerIdentity = options.maxChannelsPerIdentity ?? 64;
  if (!(Number.isInteger(maxPerIdentity) && maxPerIdentity >= 1)) throw new RangeError('maxChannelsPerIdentity is an integer, 1 or more');
  const idleTimeout = options.idleTimeout ?? 0;
  if (!(Number.isFinite(idleTimeout) && idleTimeout >= 0)) throw new RangeError('idleTimeout is a number of milliseconds, 0 or more');
  const drops = new ChannelDrops();
  /** Each half-open handshake's abort, by source (connection, else channel peer). */
  const halfOpen = new HalfOpenHandshakes<(reason?: ChannelDropReason) => void>();
  const open = new Set<ChannelEnd>();
  const places = new PlacesPerIdentity(maxPerIdentity);
  let accepted = 0;
  let idleClosed = 0;

  const handshake = (first: Message): void => {
    if (first.payload.length > MAX_MESSAGE_LENGTH || first.return.length === 0) return drops.add('handshake_failed');
    if (open.size >= maxChannels) return drops.add('handshake_limit');
    // through a channel there is no connection: the channel's peer is the source (each tunnelling peer its own bound)
    const source = first.local.connection ?? first.local.identity ?? '';
    if (halfOpen.of(source) >= maxPerConnection) return drops.add('handshake_limit');
    const admission = new AdmissionCheck(options.trust, node.clock);
    // dropped once the handshake is over: an open channel keeps only its transport ciphers, not the handshake state
    let responder: ResponderHandshake | undefined = new ResponderHandshake(party, admission.check);
    let message2: Uint8Array;
    try {
      message2 = responder.respond(first.payload);
    } catch {
      return drops.add('handshake_failed');
    }
    // every half-open handshake may become a channel: together with the open ones they stay within maxChannels
    if (halfOpen.size >= maxHandshakes || open.size + halfOpen.size >= maxChannels) {
      const victim = halfOpen.victim(source);
      if (victim === undefined) return drops.add('handshake_limit');
      victim('handshake_evicted');
    }
    let state: 'waiting' | 'finishing' | 'over' = 'waiting';
    let end: ChannelEnd | undefined;
    /** The peer identity this handshake (from its message 3 on) or channel holds a place for. */
    let placeOf: string | undefined;
    const givePlace = (): void => {
      if (placeOf !== undefined) places.give(placeOf);
      placeOf = undefined;
    };
    /** Gives back this handshake's half-open place. */
    const release = (): void => halfOpen.delete(source, abort);
    const backlog: Message[] = [];
    let backlogBytes = 0;
    /** Ends the handshake; counted when it has a reason (the listener stopping has none). */
    const abort = (reason?: ChannelDropReason) => {
      if (state === 'over') return;
      state = 'over';
      responder = undefined;
      node.clock.clearTimeout(timer);
      release();
      givePlace();
      decryptor.unregister();
      if (reason !== undefined) drops.add(reason);
    };
    const receive = (msg: Message): boolean => {
      if (end !== undefined) {
        end.decrypt(msg);
        return true;
      }
      if (state === 'finishing') {
        // ciphertexts the initiator sent right after message 3 wait for the trust check, up to a bound
        // (all that one socket read brought arrives before the check's promise settles): bounded by bytes
        if (backlogBytes + msg.payload.length <= MAX_BACKLOG_BYTES && backlog.length < MAX_BACKLOG_MESSAGES) {
          backlog.push(msg);
          backlogBytes += msg.payload.length;
        } else drops.add('backlog_full');
        return true;
      }
      const handshaking = responder;
      if (state !== 'waiting' || handshaking === undefined) return true;
      let peer: Peer | undefined;
      try {
        peer = readHandshakeMessage((m) => handshaking.read(m), msg.payload, drops);
      } catch {
        abort('handshake_failed');
        return true;
      }
      if (peer === undefined) return true; // a forgery: the genuine message 3 still counts
      if (!places.take(peer.identifier)) {
        abort('identity_limit');
        return true;
      }
      placeOf = peer.identifier;
      state = 'finishing';
      handshaking.admit(peer).then(
        (established) => {
          if (state !== 'finishing') return;
          state = 'over';
          responder = undefined;
          node.clock.clearTimeout(timer);
          release();
          end = new ChannelEnd({
            node,
            established,
            admission: admission.admission,
            policy: options.trust,
            decryptor,
            peerRoute: msg.return,
            batching: options.batching ?? true,
            forwarding: options.forwarding ?? false,
            drops: new ChannelDrops(drops),
            idleTimeout,
            onIdle: () => idleClosed++,
            onClosed: () => {
              open.delete(end!);
              givePlace();
            },
          });
          open.add(end);
          accepted++;
          try {
            options.onChannel?.(end);
            for (const m of backlog.splice(0)) end.decrypt(m);
          } catch (err) {
            // an application's onChannel that throws must not take the node down: the channel ends instead
            node.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'secure channel ended: onChannel failed');
            end.end();
          }
        },
        (err: unknown) => abort(err instanceof UntrustedPeerError ? 'untrusted_peer' : 'handshake_failed'),
      );
      return true;
    };
    const decryptor = freshAddress(node, 'sc.', receive);
    const timer = node.clock.setTimeout(() => abort('handshake_timeout'), timeout);
    halfOpen.add(source, abort);
    node.send(first.return, message2, { returnRoute: [decryptor.address] });
  };

  const worker: Worker = {
    handleMessage: (_ctx, msg) => handshake(msg),
    shutdown: () => {
      for (const abort of halfOpen.all()) abort();
      for (const end of [...open]) end.end();
    },
  };
  await node.startWorker(address, worker);
  return {
    address,
    identifier: party.identifier,
    stats: () => ({ dropped: drops.toJSON(), handshakes: halfOpen.size, channels: open.size, accepted, idleClosed }),
    channels: () => [...open],
    stop: () => node.stopWorker(address),
  };
}
