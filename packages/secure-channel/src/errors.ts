import { defineError, TesseraError } from '@tessera/core';

/**
 * Errors of the secure channel layer. Each class has a stable `code` for
 * programs; `name` is the class name. Messages never hold key material.
 */
export class SecureChannelError extends TesseraError {
  static override readonly name: string = 'SecureChannelError';
}

/** Base of the credential errors; `code` says which check failed. */
export class CredentialError extends SecureChannelError {
  static override readonly name: string = 'CredentialError';
}

/** A Noise handshake message failed to decrypt, was malformed, or came out of turn; the handshake is over. */
export const HandshakeFailedError = defineError('HandshakeFailedError', 'HANDSHAKE_FAILED', SecureChannelError);
export type HandshakeFailedError = InstanceType<typeof HandshakeFailedError>;
/**
 * A handshake message did not authenticate (or was malformed) and was dropped
 * unread: the handshake's state is as before it, and it waits on for the genuine
 * message. Only a party that holds the handshake's keys can write one that
 * authenticates, so a forgery cannot end someone else's handshake.
 */
export const HandshakeMessageRejectedError = defineError('HandshakeMessageRejectedError', 'HANDSHAKE_MESSAGE_REJECTED', SecureChannelError);
export type HandshakeMessageRejectedError = InstanceType<typeof HandshakeMessageRejectedError>;
/** A handshake message (or the payload given to one) exceeds the 65,535-byte limit. */
export const MessageTooLargeError = defineError('MessageTooLargeError', 'MESSAGE_TOO_LARGE', SecureChannelError);
export type MessageTooLargeError = InstanceType<typeof MessageTooLargeError>;
/** The peer's handshake payload is not `[identity_key, proof, credentials]` within the bounds. */
export const InvalidHandshakePayloadError = defineError('InvalidHandshakePayloadError', 'INVALID_HANDSHAKE_PAYLOAD', SecureChannelError);
export type InvalidHandshakePayloadError = InstanceType<typeof InvalidHandshakePayloadError>;
/** The peer's proof does not bind its Noise static key to its identity key. */
export const InvalidProofError = defineError('InvalidProofError', 'INVALID_PROOF', SecureChannelError);
export type InvalidProofError = InstanceType<typeof InvalidProofError>;
/** The trust policy refused the peer. */
export const UntrustedPeerError = defineError('UntrustedPeerError', 'UNTRUSTED_PEER', SecureChannelError);
export type UntrustedPeerError = InstanceType<typeof UntrustedPeerError>;
/** A Noise cipher ran out of nonces, or a key or nonce was used out of range. */
export const NonceExhaustedError = defineError('NonceExhaustedError', 'NONCE_EXHAUSTED', SecureChannelError);
export type NonceExhaustedError = InstanceType<typeof NonceExhaustedError>;
/** A decrypted channel plaintext is not one of the kinds of docs/protocol.md §5. */
export const InvalidPlaintextError = defineError('InvalidPlaintextError', 'INVALID_PLAINTEXT', SecureChannelError);
export type InvalidPlaintextError = InstanceType<typeof InvalidPlaintextError>;
/** A key, identifier or key pair given by the application is malformed. */
export const InvalidKeyError = defineError('InvalidKeyError', 'INVALID_KEY', SecureChannelError);
export type InvalidKeyError = InstanceType<typeof InvalidKeyError>;
/** An identity file is readable by group or others; it is refused until its mode is 0600. */
export const InsecureIdentityFileError = defineError('InsecureIdentityFileError', 'IDENTITY_FILE_INSECURE', SecureChannelError);
export type InsecureIdentityFileError = InstanceType<typeof InsecureIdentityFileError>;
/** An identity file is not a valid identity (bad JSON, wrong shape, keys that do not match). */
export const InvalidIdentityFileError = defineError('InvalidIdentityFileError', 'IDENTITY_FILE_INVALID', SecureChannelError);
export type InvalidIdentityFileError = InstanceType<typeof InvalidIdentityFileError>;

/** Not a compact EdDSA JWS with the claims of docs/protocol.md §6. */
export const MalformedCredentialError = defineError('MalformedCredentialError', 'CREDENTIAL_MALFORMED', CredentialError);
export type MalformedCredentialError = InstanceType<typeof MalformedCredentialError>;
/** `iss` names no trusted authority. */
export const UnknownIssuerError = defineError('UnknownIssuerError', 'CREDENTIAL_UNKNOWN_ISSUER', CredentialError);
export type UnknownIssuerError = InstanceType<typeof UnknownIssuerError>;
/** The signature does not verify under the issuer's key. */
export const BadSignatureError = defineError('BadSignatureError', 'CREDENTIAL_BAD_SIGNATURE', CredentialError);
export type BadSignatureError = InstanceType<typeof BadSignatureError>;
/** `sub` is not the expected peer. */
export const WrongSubjectError = defineError('WrongSubjectError', 'CREDENTIAL_WRONG_SUBJECT', CredentialError);
export type WrongSubjectError = InstanceType<typeof WrongSubjectError>;
/** Now is at or after `exp`. */
export const CredentialExpiredError = defineError('CredentialExpiredError', 'CREDENTIAL_EXPIRED', CredentialError);
export type CredentialExpiredError = InstanceType<typeof CredentialExpiredError>;
/** Now is more than 60 s before `iat`. */
export const CredentialNotYetValidError = defineError('CredentialNotYetValidError', 'CREDENTIAL_NOT_YET_VALID', CredentialError);
export type CredentialNotYetValidError = InstanceType<typeof CredentialNotYetValidError>;
