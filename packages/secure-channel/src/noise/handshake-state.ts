import { HandshakeFailedError, MessageTooLargeError } from '../errors.js';
import { TAG_LENGTH } from './chachapoly.js';
import type { CipherState } from './cipher-state.js';
import { handshakePattern, type HandshakePattern, type Token } from './patterns.js';
import { SymmetricState } from './symmetric-state.js';
import type { KeyObject } from 'node:crypto';
import { ephemeralX25519KeyPair } from './ephemeral-keys.js';
import { DH_LENGTH, dh, x25519PublicKey, x25519StaticPublicKey, type X25519KeyPair } from './x25519.js';

/** The largest Noise message (rev. 34 §3), and the limit of docs/protocol.md §5 for handshake messages. */
export const MAX_MESSAGE_LENGTH = 65_535;

/** Initialize() arguments of the Noise spec; `pattern` is a pattern name such as `XX`. */
export interface HandshakeOptions {
  pattern: string;
  initiator: boolean;
  prologue: Uint8Array;
  /** Local static key pair. */
  s?: X25519KeyPair;
  /** Local ephemeral key pair; generated when needed if absent (tests pass fixed ones). */
  e?: X25519KeyPair;
  /** Remote static public key, when known in advance. */
  rs?: Uint8Array;
  /** Remote ephemeral public key, when known in advance. */
  re?: Uint8Array;
}

/** The two transport cipher states of a finished handshake, from this side's point of view. */
export interface TransportCiphers {
  send: CipherState;
  receive: CipherState;
}

/**
 * The HandshakeState of the Noise spec (rev. 34 §5.3) for
 * Noise_*_25519_ChaChaPoly_SHA256 without PSKs. Any failure ends it: every
 * later call throws HandshakeFailedError.
 */
export class HandshakeState {
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  private readonly symmetric: SymmetricState;
  private s: X25519KeyPair | undefined;
  private e: X25519KeyPair | undefined;
  private rs: Uint8Array | undefined;
  private re: Uint8Array | undefined;
  private index = 0;
  private failed = false;
  private ciphers: TransportCiphers | undefined;
  private readonly keyObjects = new Map<Uint8Array, KeyObject>();

  /** Initialize(handshake_pattern, initiator, prologue, s, e, rs, re). */
  constructor(options: HandshakeOptions) {
    const pattern = handshakePattern(options.pattern);
    if (pattern === undefined) throw new RangeError(`unknown handshake pattern ${options.pattern}`);
    this.pattern = pattern;
    this.initiator = options.initiator;
    this.s = options.s;
    this.e = options.e;
    this.rs = options.rs;
    this.re = options.re;
    this.symmetric = new SymmetricState(`Noise_${pattern.name}_25519_ChaChaPoly_SHA256`);
    this.symmetric.mixHash(options.prologue);
    this.mixPreMessage(pattern.initiatorPreMessage, this.initiator);
    this.mixPreMessage(pattern.responderPreMessage, !this.initiator);
  }

  /** True once the last handshake message has been written or read. */
  get isFinished(): boolean {
    return this.ciphers !== undefined;
  }

  /** True when the next message is ours to write. */
  get isMyTurn(): boolean {
    return !this.isFinished && this.index % 2 === (this.initiator ? 0 : 1);
  }

  /** The handshake hash h (channel binding); final once the handshake is finished. */
  get handshakeHash(): Uint8Array {
    return this.symmetric.handshakeHash;
  }

  /** The remote party's static public key, once known. */
  get remoteStatic(): Uint8Array | undefined {
    return this.rs;
  }

  /** The transport cipher states (this side's send and receive); throws until the handshake is finished. */
  transport(): TransportCiphers {
    if (this.ciphers === undefined) throw new HandshakeFailedError('the handshake is not finished');
    return this.ciphers;
  }

  /** WriteMessage(payload, message_buffer): the next handshake message, carrying `payload`. */
  writeMessage(payload: Uint8Array): Uint8Array {
    this.checkTurn(true);
    const tokens = this.pattern.messages[this.index]!;
    const parts: Uint8Array[] = [];
    try {
      for (const token of tokens) {
        if (token === 'e') {
          this.e ??= ephemeralX25519KeyPair();
          parts.push(this.e.publicKey);
          this.symmetric.mixHash(this.e.publicKey);
        } else if (token === 's') {
          parts.push(this.symmetric.encryptAndHash(this.need(this.s, 's').publicKey));
        } else {
          this.mixDh(token);
        }
      }
      parts.push(this.symmetric.encryptAndHash(payload));
    } catch (err) {
      throw this.fail(err);
    }
    const message = Buffer.concat(parts);
    if (message.length > MAX_MESSAGE_LENGTH) {
      this.failed = true;
      throw new MessageTooLargeError(`a handshake message would have ${message.length} bytes, more than ${MAX_MESSAGE_LENGTH}`);
    }
    this.advance();
    return message;
  }

  /** ReadMessage(message, payload_buffer): the payload of the peer's next handshake message. */
  readMessage(message: Uint8Array): Uint8Array {
    this.checkTurn(false);
    if (message.length > MAX_MESSAGE_LENGTH) {
      this.failed = true;
      throw new MessageTooLargeError(`a handshake message has ${message.length} bytes, more than ${MAX_MESSAGE_LENGTH}`);
    }
    const tokens = this.pattern.messages[this.index]!;
    let at = 0;
    const take = (n: number): Uint8Array => {
      if (message.length - at < n) throw new HandshakeFailedError('a handshake message is too short');
      const part = message.subarray(at, at + n);
      at += n;
      return part;
    };
    let payload: Uint8Array;
    try {
      for (const token of tokens) {
        if (token === 'e') {
          this.re = Buffer.from(take(DH_LENGTH));
          this.symmetric.mixHash(this.re);
        } else if (token === 's') {
          const length = this.symmetric.hasKey() ? DH_LENGTH + TAG_LENGTH : DH_LENGTH;
          this.rs = Buffer.from(this.symmetric.decryptAndHash(take(length)));
        } else {
          this.mixDh(token);
        }
      }
      payload = this.symmetric.decryptAndHash(message.subarray(at));
    } catch (err) {
      throw this.fail(err);
    }
    this.advance();
    return payload;
  }

  /**
   * ReadMessage, except that a message that does not authenticate, is
   * malformed or has a bad key leaves the state as it was (not failed) and
   * gives undefined: for a party that must not let a forged message end its
   * handshake. Out of turn, or after a failure, it throws as readMessage does.
   */
  tryReadMessage(message: Uint8Array): Uint8Array | undefined {
    this.checkTurn(false);
    if (message.length > MAX_MESSAGE_LENGTH) return undefined;
    const symmetric = this.symmetric.save();
    const { re, rs } = this;
    const keysBefore = this.keyObjects.size;
    try {
      return this.readMessage(message);
    } catch {
      this.symmetric.restore(symmetric);
      this.re = re;
      this.rs = rs;
      this.forgetKeyObjectsAfter(keysBefore);
      this.failed = false;
      return undefined;
    }
  }

  private mixPreMessage(tokens: readonly ('e' | 's')[], mine: boolean): void {
    for (const token of tokens) {
      const key = mine
        ? this.need(token === 'e' ? this.e : this.s, token).publicKey
        : this.need(token === 'e' ? this.re : this.rs, `r${token}`);
      this.symmetric.mixHash(key);
    }
  }

  private mixDh(token: Exclude<Token, 'e' | 's'>): void {
    // the first letter names the initiator's key, the second the responder's
    const initiatorKey = token[0] as 'e' | 's';
    const responderKey = token[1] as 'e' | 's';
    const [localKey, remoteKey] = this.initiator ? [initiatorKey, responderKey] : [responderKey, initiatorKey];
    const local = this.need(localKey === 'e' ? this.e : this.s, localKey);
    const remote = this.need(remoteKey === 'e' ? this.re : this.rs, `r${remoteKey}`);
    this.symmetric.mixKey(dh(local, this.keyObject(remote, remoteKey === 's')));
  }

  /** The KeyObject of a remote key, made once: most patterns use each remote key in two DHs. */
  private keyObject(raw: Uint8Array, isStatic: boolean): KeyObject {
    let key = this.keyObjects.get(raw);
    if (key === undefined) this.keyObjects.set(raw, (key = isStatic ? x25519StaticPublicKey(raw) : x25519PublicKey(raw)));
    return key;
  }

  /** Forgets the KeyObjects made after the first `count` (a read that failed made them): a forgery leaves nothing behind. */
  private forgetKeyObjectsAfter(count: number): void {
    let index = 0;
    // a Map iterates in insertion order, and entries are only ever added: the newest come last
    for (const raw of [...this.keyObjects.keys()]) if (index++ >= count) this.keyObjects.delete(raw);
  }

  private need<T>(key: T | undefined, name: string): T {
    if (key === undefined) throw new HandshakeFailedError(`the pattern needs key ${name}, which is missing`);
    return key;
  }

  private checkTurn(writing: boolean): void {
    if (this.failed) throw new HandshakeFailedError('the handshake has failed');
    if (this.isFinished) throw new HandshakeFailedError('the handshake is already finished');
    if (this.isMyTurn !== writing) throw new HandshakeFailedError(writing ? 'it is the peer’s turn to write' : 'it is our turn to write');
  }

  private advance(): void {
    this.index++;
    if (this.index < this.pattern.messages.length) return;
    const [c1, c2] = this.symmetric.split();
    this.ciphers = this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 };
  }

  private fail(err: unknown): Error {
    this.failed = true;
    if (err instanceof HandshakeFailedError) return err;
    // node:crypto refuses an all-zero X25519 result (a low-order point), among others
    return new HandshakeFailedError('a handshake step failed', { cause: err });
  }
}
