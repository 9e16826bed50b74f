import type { CipherState } from '../noise/cipher-state.js';

/** The other side of a channel, as its handshake proved it. */
export interface Peer {
  /** `I` + hex SHA-256 of the identity key. */
  readonly identifier: string;
  readonly identityKey: Uint8Array;
  /** The peer's Noise static key, which its identity key signed. */
  readonly staticKey: Uint8Array;
  /** Credentials it presented, not yet verified (see verifyCredential). */
  readonly credentials: readonly string[];
}

/** Decides whether to go on with a peer whose proof has verified; false or a throw ends the handshake. */
export type TrustCheck = (peer: Peer) => boolean | Promise<boolean>;

/** A TrustCheck that accepts any peer with a valid proof: for tests and for policies applied later. */
export const trustAnyPeer: TrustCheck = () => true;

/** A finished handshake: whom we talk to and the transport cipher states. */
export interface EstablishedChannel {
  readonly peer: Peer;
  readonly send: CipherState;
  readonly receive: CipherState;
  /** Noise's handshake hash, the same on both sides: a channel binding. */
  readonly handshakeHash: Uint8Array;
}
