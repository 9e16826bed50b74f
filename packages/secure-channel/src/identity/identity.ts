import type { KeyObject } from 'node:crypto';
import { ed25519PrivateKey, generateEd25519PrivateKey, rawEd25519PrivateKey, rawEd25519PublicKey, signEd25519 } from './ed25519.js';
import { identifierOf } from './identifier.js';
import type { Signer } from './signer.js';

/** An identity whose Ed25519 private key is held in this process (docs/protocol.md §5). */
export class Ed25519Identity implements Signer {
  readonly publicKey: Uint8Array;
  readonly identifier: string;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.publicKey = rawEd25519PublicKey(privateKey);
    this.identifier = identifierOf(this.publicKey);
  }

  /** A new identity with a fresh random key. */
  static generate(): Ed25519Identity {
    return new Ed25519Identity(generateEd25519PrivateKey());
  }

  /** The identity of a raw 32-byte Ed25519 private key. */
  static fromPrivateKey(raw: Uint8Array): Ed25519Identity {
    return new Ed25519Identity(ed25519PrivateKey(raw));
  }

  /** The 64-byte Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.signSync(data));
  }

  /** The same, at once. */
  signSync(data: Uint8Array): Uint8Array {
    return signEd25519(this.#privateKey, data);
  }

  /** The raw 32-byte private key, for saving it (see saveIdentity); handle with care. */
  exportPrivateKey(): Uint8Array {
    return rawEd25519PrivateKey(this.#privateKey);
  }

  /** Only the identifier: an identity printed or logged shows no key. */
  toJSON(): { identifier: string } {
    return { identifier: this.identifier };
  }
}
