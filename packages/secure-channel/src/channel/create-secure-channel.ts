import { toRoute, type Address, type Message, type Node, type Route } from '@tessera/core';
import { UntrustedPeerError } from '../errors.js';
import type { Peer } from '../handshake/peer.js';
import { InitiatorHandshake } from '../handshake/xx-handshake.js';
import type { Signer } from '../identity/signer.js';
import type { TrustPolicy } from '../trust/trust-policy.js';
import { HandshakeFailedError } from '../errors.js';
import { HandshakeTimeoutError, HandshakeUnreachableError } from '../channel-errors.js';
import { AdmissionCheck } from './admission-check.js';
import { freshAddress } from './channel-address.js';
import { readHandshakeMessage } from './read-handshake-message.js';
import { ChannelDrops } from './channel-drops.js';
import { ChannelEnd } from './channel-end.js';
import { partyFor } from './party-cache.js';

/** Options of createSecureChannel. */
export interface CreateSecureChannelOptions {
  /** Our identity key. */
  identity: Signer;
  /** Which responders we accept. */
  trust: TrustPolicy;
  /** Credentials about us we present. */
  credentials?: readonly string[];
  /** Milliseconds to wait for message 2 (default 10,000), on the node's clock. */
  timeout?: number;
  /** Batch what is queued in one turn of the event loop (default true). */
  batching?: boolean;
  /** Let the responder route decrypted messages on to non-LOCAL addresses here (default false). */
  forwarding?: boolean;
}

/** An open channel: route through `address` to reach workers on the peer's node. */
export type SecureChannel = ChannelEnd;

/**
 * Opens a secure channel to the listener at the end of `route` (docs/protocol.md §5)
 * and resolves once message 3 is sent. Rejects with UntrustedPeerError,
 * InvalidProofError, HandshakeFailedError, HandshakeTimeoutError or
 * HandshakeUnreachableError.
 */
export async function createSecureChannel(node: Node, route: Route | Address | string, options: CreateSecureChannelOptions): Promise<SecureChannel> {
  const toListener = toRoute(route);
  const party = await partyFor(options.identity, options.credentials);
  const admission = new AdmissionCheck(options.trust, node.clock);
  // dropped once the handshake is over: an open channel keeps only its transport ciphers, not the handshake state
  let initiator: InitiatorHandshake | undefined = new InitiatorHandshake(party, admission.check);
  const message1 = initiator.start();
  const drops = new ChannelDrops();
  return new Promise<SecureChannel>((resolve, reject) => {
    let state: 'waiting' | 'finishing' | 'over' = 'waiting';
    let end: ChannelEnd | undefined;
    const fail = (err: Error) => {
      if (state === 'over') return;
      state = 'over';
      initiator = undefined;
      node.clock.clearTimeout(timer);
      decryptor.unregister();
      if (err instanceof UntrustedPeerError) drops.add('untrusted_peer');
      else if (err instanceof HandshakeTimeoutError) drops.add('handshake_timeout');
      else drops.add('handshake_failed');
      reject(err);
    };
    const receive = (msg: Message): boolean => {
      if (end !== undefined) {
        end.decrypt(msg);
        return true;
      }
      // the responder sends nothing between message 2 and our message 3
      const handshaking = initiator;
      if (state !== 'waiting' || handshaking === undefined) return true;
      let peer: Peer | undefined;
      try {
        peer = readHandshakeMessage((m) => handshaking.read(m), msg.payload, drops);
      } catch (err) {
        fail(err instanceof Error ? err : new HandshakeFailedError(String(err)));
        return true;
      }
      if (peer === undefined) return true; // a forgery: the genuine message 2 still counts
      state = 'finishing';
      handshaking.accept(peer).then(
        (message3) => {
          if (state !== 'finishing') return;
          state = 'over';
          initiator = undefined;
          node.clock.clearTimeout(timer);
          node.send(msg.return, message3, { returnRoute: [decryptor.address] });
          end = new ChannelEnd({
            node,
            established: handshaking.channel!,
            admission: admission.admission,
            policy: options.trust,
            decryptor,
            peerRoute: msg.return,
            batching: options.batching ?? true,
            forwarding: options.forwarding ?? false,
            drops,
          });
          resolve(end);
        },
        (err: unknown) => fail(err instanceof Error ? err : new HandshakeFailedError(String(err))),
      );
      return true;
    };
    const decryptor = freshAddress(node, 'sc.', receive);
    const timeout = options.timeout ?? 10_000;
    const timer = node.clock.setTimeout(() => fail(new HandshakeTimeoutError(`no handshake answer within ${timeout} ms`)), timeout);
    const outcome = node.send(toListener, message1, { returnRoute: [decryptor.address] });
    if (outcome !== 'delivered' && outcome !== 'sent') fail(new HandshakeUnreachableError(`the first handshake message was dropped: ${outcome}`));
  });
}
