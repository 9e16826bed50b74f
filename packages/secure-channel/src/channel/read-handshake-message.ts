import { HandshakeFailedError, HandshakeMessageRejectedError } from '../errors.js';
import type { Peer } from '../handshake/peer.js';
import { MAX_MESSAGE_LENGTH } from '../noise/handshake-state.js';
import type { ChannelDrops } from './channel-drops.js';

/**
 * Reads the peer's message 2 (initiator) or 3 (responder) at a channel end: the
 * peer, or undefined for a forgery, which is dropped unread and counted
 * `tampered` (the handshake waits on for the genuine one). Throws what ends the
 * handshake: a message over 65,535 bytes, a bad proof, a malformed payload.
 */
export function readHandshakeMessage(read: (message: Uint8Array) => Peer, payload: Uint8Array, drops: ChannelDrops): Peer | undefined {
  if (payload.length > MAX_MESSAGE_LENGTH) throw new HandshakeFailedError('a handshake message is larger than 65,535 bytes');
  try {
    return read(payload);
  } catch (err) {
    if (!(err instanceof HandshakeMessageRejectedError)) throw err;
    drops.add('tampered');
    return undefined;
  }
}
