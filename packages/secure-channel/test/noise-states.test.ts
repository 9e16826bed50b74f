import { expect } from 'chai';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  ChaChaPolyKey,
  CipherState,
  generateX25519KeyPair,
  HandshakeFailedError,
  HandshakeState,
  MAX_MESSAGE_LENGTH,
  MessageTooLargeError,
} from '@tessera/secure-channel';

const EMPTY = new Uint8Array(0);

/** ChaCha20-Poly1305 straight from node:crypto, nonce = 4 zero bytes then n as 64-bit little-endian. */
function referenceSeal(key: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(n, 4);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

describe('CipherState', () => {
  it('encrypts with Noise nonces 0, 1, 2... and the associated data', () => {
    const key = randomBytes(32);
    const ad = Buffer.from('ad');
    const cipher = new CipherState(key);
    for (let n = 0n; n < 3n; n++) {
      const plaintext = randomBytes(40);
      expect(Buffer.from(cipher.encryptWithAd(ad, plaintext))).to.deep.equal(referenceSeal(key, n, ad, plaintext));
    }
    expect(cipher.nonce).to.equal(3);
  });

  it('encodes a nonce above 2^32 with its high word', () => {
    const key = randomBytes(32);
    const n = 2 ** 40 + 5;
    expect(new ChaChaPolyKey(key).seal(n, EMPTY, Buffer.from('x'))).to.deep.equal(referenceSeal(key, BigInt(n), EMPTY, Buffer.from('x')));
  });

  it('REKEY is the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros), and keeps n', () => {
    const key = randomBytes(32);
    const expected = referenceSeal(key, 2n ** 64n - 1n, EMPTY, Buffer.alloc(32)).subarray(0, 32);
    const cipher = new CipherState(key);
    cipher.encryptWithAd(EMPTY, Buffer.from('one'));
    cipher.rekey();
    expect(cipher.nonce).to.equal(1);
    const plaintext = Buffer.from('after rekey');
    expect(Buffer.from(cipher.encryptWithAd(EMPTY, plaintext))).to.deep.equal(referenceSeal(expected, 1n, EMPTY, plaintext));
  });

  it('refuses a ciphertext that does not authenticate and does not move n', () => {
    const key = randomBytes(32);
    const sealed = new CipherState(key).encryptWithAd(EMPTY, Buffer.from('hello'));
    const receiver = new CipherState(key);
    const tampered = Buffer.from(sealed);
    tampered[0]! ^= 1;
    expect(receiver.decryptWithAd(EMPTY, tampered)).to.equal(null);
    expect(receiver.decryptWithAd(EMPTY, sealed.subarray(0, 10))).to.equal(null);
    expect(receiver.nonce).to.equal(0);
    expect(Buffer.from(receiver.decryptWithAd(EMPTY, sealed)!).toString()).to.equal('hello');
  });

  it('passes data through unchanged before it has a key', () => {
    const cipher = new CipherState();
    const data = Buffer.from('clear');
    expect(cipher.encryptWithAd(EMPTY, data)).to.equal(data);
    expect(cipher.decryptWithAd(EMPTY, data)).to.equal(data);
  });
});

describe('HandshakeState', () => {
  const xx = (initiator: boolean) => new HandshakeState({ pattern: 'XX', initiator, prologue: EMPTY, s: generateX25519KeyPair() });

  it('refuses to write or read out of turn', () => {
    const initiator = xx(true);
    expect(() => initiator.readMessage(new Uint8Array(32))).to.throw(HandshakeFailedError);
    const responder = xx(false);
    expect(() => responder.writeMessage(EMPTY)).to.throw(HandshakeFailedError);
  });

  it('after a message that does not authenticate, refuses everything', () => {
    const initiator = xx(true);
    const responder = xx(false);
    responder.readMessage(initiator.writeMessage(EMPTY));
    const message2 = Buffer.from(responder.writeMessage(EMPTY));
    message2[40]! ^= 1; // inside the encrypted static key
    expect(() => initiator.readMessage(message2)).to.throw(HandshakeFailedError);
    expect(() => initiator.writeMessage(EMPTY)).to.throw(HandshakeFailedError, /failed/);
  });

  it('keeps nothing of forged messages it drops: a flood of forged message 2s leaves no key behind, and the genuine one still reads', () => {
    const initiator = xx(true);
    const responder = xx(false);
    responder.readMessage(initiator.writeMessage(EMPTY));
    const genuine = responder.writeMessage(EMPTY);
    /** The remote keys the state holds as KeyObjects (private: what a forgery must not grow). */
    const keysHeld = () => (initiator as unknown as { keyObjects: Map<Uint8Array, unknown> }).keyObjects.size;
    const before = keysHeld();
    for (let i = 0; i < 1_000; i++) {
      // a fresh valid ephemeral key each time (each would be a new KeyObject), then bytes that do not authenticate
      const forged = Buffer.concat([generateX25519KeyPair().publicKey, randomBytes(genuine.length - 32)]);
      expect(initiator.tryReadMessage(forged)).to.equal(undefined);
    }
    expect(keysHeld()).to.equal(before);
    expect(initiator.tryReadMessage(genuine)).to.be.instanceOf(Uint8Array);
    responder.readMessage(initiator.writeMessage(EMPTY));
    expect(Buffer.from(initiator.handshakeHash)).to.deep.equal(Buffer.from(responder.handshakeHash));
  });

  it('refuses a short message', () => {
    const responder = xx(false);
    expect(() => responder.readMessage(new Uint8Array(31))).to.throw(HandshakeFailedError, /too short/);
  });

  it('refuses an ephemeral key of low order (the X25519 result would be all zeros)', () => {
    const initiator = xx(true);
    initiator.writeMessage(EMPTY);
    const lowOrder = Buffer.alloc(32 + 48 + 16); // e = 0 is a point of small order
    expect(() => initiator.readMessage(lowOrder)).to.throw(HandshakeFailedError, /step failed/);
  });

  it('keeps messages within 65,535 bytes, both ways', () => {
    const initiator = xx(true);
    expect(() => initiator.writeMessage(new Uint8Array(MAX_MESSAGE_LENGTH))).to.throw(MessageTooLargeError);
    const responder = xx(false);
    expect(() => responder.readMessage(new Uint8Array(MAX_MESSAGE_LENGTH + 1))).to.throw(MessageTooLargeError);
  });

  it('refuses a message that arrives after the handshake has finished', () => {
    const a = new HandshakeState({ pattern: 'NN', initiator: true, prologue: EMPTY });
    const b = new HandshakeState({ pattern: 'NN', initiator: false, prologue: EMPTY });
    b.readMessage(a.writeMessage(EMPTY));
    a.readMessage(b.writeMessage(EMPTY));
    expect(a.isFinished && b.isFinished).to.equal(true);
    expect(() => a.writeMessage(EMPTY)).to.throw(HandshakeFailedError, /finished/);
  });

  it('gives both sides of a random XX handshake the same hash and matching ciphers (initiator sends with the first key)', () => {
    const a = xx(true);
    const b = xx(false);
    b.readMessage(a.writeMessage(EMPTY));
    a.readMessage(b.writeMessage(EMPTY));
    b.readMessage(a.writeMessage(EMPTY));
    expect(Buffer.from(a.handshakeHash)).to.deep.equal(Buffer.from(b.handshakeHash));
    const ping = a.transport().send.encryptWithAd(EMPTY, Buffer.from('ping'));
    expect(Buffer.from(b.transport().receive.decryptWithAd(EMPTY, ping)!).toString()).to.equal('ping');
    const pong = b.transport().send.encryptWithAd(EMPTY, Buffer.from('pong'));
    expect(Buffer.from(a.transport().receive.decryptWithAd(EMPTY, pong)!).toString()).to.equal('pong');
  });
});
