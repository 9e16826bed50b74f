import { generateKeyPair, type KeyObject } from 'node:crypto';
import { generateX25519KeyPair, rawX25519PublicKey, type X25519KeyPair } from './x25519.js';

/**
 * Ephemeral X25519 key pairs made ahead, off the main thread: each handshake
 * takes one (used once, then dropped) and asks for another, which libuv's
 * pool generates while the main thread does the rest of the handshake. When
 * the pool is empty (the first handshakes, or a burst), one is made at once.
 */
const POOL_SIZE = 32;
const ready: X25519KeyPair[] = [];
let pending = 0;

/** GENERATE_KEYPAIR() for an ephemeral key: a pair made ahead when there is one. */
export function ephemeralX25519KeyPair(): X25519KeyPair {
  const pair = ready.pop();
  refill();
  return pair ?? generateX25519KeyPair();
}

function refill(): void {
  while (ready.length + pending < POOL_SIZE) {
    pending++;
    generateKeyPair('x25519', {}, (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => {
      pending--;
      if (err === null) ready.push({ publicKey: rawX25519PublicKey(publicKey), privateKey });
    });
  }
}
