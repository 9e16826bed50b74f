export * from './errors.js';
// Noise (rev. 34) for 25519, ChaChaPoly, SHA256
export { ChaChaPolyKey, KEY_LENGTH, TAG_LENGTH } from './noise/chachapoly.js';
export { CipherState } from './noise/cipher-state.js';
export { SymmetricState } from './noise/symmetric-state.js';
export { HandshakeState, MAX_MESSAGE_LENGTH, type HandshakeOptions, type TransportCiphers } from './noise/handshake-state.js';
export { handshakePattern, PATTERN_NAMES, type HandshakePattern, type Token } from './noise/patterns.js';
export { generateX25519KeyPair, x25519KeyPairFromPrivate, type X25519KeyPair } from './noise/x25519.js';
// identities
export { identifierOf, isIdentifier, IDENTIFIER_PATTERN } from './identity/identifier.js';
export type { Signer } from './identity/signer.js';
export { Ed25519Identity } from './identity/identity.js';
export { createIdentityFile, loadIdentity, loadOrCreateIdentity, saveIdentity } from './identity/identity-file.js';
export { signStaticKey, verifyStaticKeyProof, STATIC_PROOF_CONTEXT } from './identity/static-proof.js';
export { verifyEd25519 } from './identity/ed25519.js';
// the channel handshake
export {
  decodeHandshakePayload,
  encodeHandshakePayload,
  MAX_CREDENTIAL_LENGTH,
  MAX_CREDENTIALS,
  type HandshakePayload,
} from './handshake/payload.js';
export { createLocalParty, withCredentials, type LocalParty, type LocalPartyOptions } from './handshake/local-party.js';
export { trustAnyPeer, type EstablishedChannel, type Peer, type TrustCheck } from './handshake/peer.js';
export { InitiatorHandshake, PROLOGUE, ResponderHandshake } from './handshake/xx-handshake.js';
export { runHandshake, type RunHandshakeOptions } from './handshake/run-handshake.js';
// encrypted messages
export { COUNTER_LENGTH, REKEY_INTERVAL, WINDOW_ABOVE, WINDOW_BELOW, type FrameDropReason } from './frame/frame-format.js';
export { FrameSender } from './frame/frame-sender.js';
export { FrameReceiver, type FrameDropCounts, type OpenResult } from './frame/frame-receiver.js';
export { decodePlaintext, encodePlaintext, MAX_BATCH_MESSAGES, MAX_ROUTE_LENGTH, type ChannelMessage, type Plaintext } from './frame/plaintext.js';
// credentials
export { trustedAuthorities, type TrustedAuthorities } from './credential/authorities.js';
export { issueCredential, type IssueCredentialOptions } from './credential/issue-credential.js';
export { verifyCredential, type VerifiedCredential, type VerifyCredentialOptions } from './credential/verify-credential.js';
export { decodeSegment, ISSUED_AT_SKEW_SECONDS, MAX_ATTRIBUTES, splitCompact, type CredentialClaims } from './credential/jws-format.js';
export * from './channel-errors.js';
// channels over routes
export { startSecureChannelListener, type SecureChannelListener, type SecureChannelListenerOptions, type SecureChannelListenerStats } from './channel/listener.js';
export { createSecureChannel, type CreateSecureChannelOptions, type SecureChannel } from './channel/create-secure-channel.js';
export { ChannelEnd, type ChannelEndStats } from './channel/channel-end.js';
export type { ChannelDropReason } from './channel/channel-drops.js';
// trust
export { trustAuthority, trustEveryone, trustFunction, trustIdentifiers, hasAttributes, type Admission, type TrustPolicy } from './trust/trust-policy.js';
export { throughSecureChannel, type ThroughSecureChannelOptions } from './trust/through-secure-channel.js';
