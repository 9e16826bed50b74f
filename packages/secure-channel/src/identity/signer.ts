/**
 * Signs with an Ed25519 identity key. The key may live anywhere (a file, a
 * KMS, an HSM): only the raw public key and a signing operation are needed.
 */
export interface Signer {
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}
