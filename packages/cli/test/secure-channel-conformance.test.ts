/**
 * Conformance of `tessera node`'s secure channels (docs/protocol.md §3, §5)
 * with NO project code on the client side: ws, msgpackr and node:crypto
 * only. The Noise XX initiator below is written from the Noise spec
 * (revision 34) and docs/protocol.md, byte for byte.
 */
import { expect } from 'chai';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { freePort } from '@tessera/testing';
import { start, type Running } from './cli-helpers.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const EMPTY = Buffer.alloc(0);

// --- X25519, SHA-256, HKDF, ChaChaPoly as Noise uses them ---
function x25519(): { priv: KeyObject; pub: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { priv: privateKey, pub: publicKey.export({ format: 'der', type: 'spki' }).subarray(12) };
}
function dh(priv: KeyObject, pub: Buffer): Buffer {
  return diffieHellman({ privateKey: priv, publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, pub]), format: 'der', type: 'spki' }) });
}
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
function hkdf(ck: Buffer, ikm: Buffer): [Buffer, Buffer] {
  const temp = hmac(ck, ikm);
  const out1 = hmac(temp, Buffer.from([1]));
  return [out1, hmac(temp, Buffer.concat([out1, Buffer.from([2])]))];
}
function nonce(n: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64LE(BigInt(n), 4); // 32 zero bits, then n little-endian
  return iv;
}
function seal(k: Buffer, n: number, ad: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', k, nonce(n), { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}
function open(k: Buffer, n: number, ad: Buffer, ciphertext: Buffer): Buffer {
  const d = createDecipheriv('chacha20-poly1305', k, nonce(n), { authTagLength: 16 });
  d.setAAD(ad, { plaintextLength: ciphertext.length - 16 });
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
}
/** Noise's SymmetricState for Noise_XX_25519_ChaChaPoly_SHA256. */
class Symmetric {
  h: Buffer = Buffer.from('Noise_XX_25519_ChaChaPoly_SHA256', 'ascii'); // exactly 32 bytes: used as it is
  ck: Buffer = this.h;
  k: Buffer | undefined;
  n = 0;
  mixHash(data: Buffer): void {
    this.h = sha256(Buffer.concat([this.h, data]));
  }
  mixKey(ikm: Buffer): void {
    [this.ck, this.k] = hkdf(this.ck, ikm);
    this.n = 0;
  }
  encryptAndHash(p: Buffer): Buffer {
    const c = this.k === undefined ? p : seal(this.k, this.n++, this.h, p);
    this.mixHash(c);
    return c;
  }
  decryptAndHash(c: Buffer): Buffer {
    const p = this.k === undefined ? c : open(this.k, this.n++, this.h, c);
    this.mixHash(c);
    return p;
  }
}

/** A Tessera client speaking the wire protocol with nothing but ws and msgpackr. */
class RawClient {
  private readonly frames: unknown[][] = [];
  private waiting: (() => void) | undefined;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(unpackr.unpack(data) as unknown[]);
      this.waiting?.();
    });
  }
  send(onward: [number, string][], back: [number, string][], payload: Buffer): void {
    this.ws.send(packr.pack([1, onward, back, payload]));
  }
  async next(): Promise<{ onward: [number, string][]; back: [number, string][]; payload: Buffer }> {
    while (this.frames.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    const [version, onward, back, payload] = this.frames.shift()!;
    expect(version).to.equal(1);
    return { onward: onward as [number, string][], back: back as [number, string][], payload: payload as Buffer };
  }
}

describe('secure channel conformance: a client with no project code talks to tessera node (docs/protocol.md §5)', function () {
  this.timeout(60_000);
  let node: Running;
  let dir: string;
  let port: number;
  let nodeIdentifier: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-sc-'));
    port = await freePort();
    node = await start(['node', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'node.json')], /identity: I[0-9a-f]{64}/);
    nodeIdentifier = /identity: (I[0-9a-f]{64})/.exec(node.stdout())![1]!;
  });
  after(async () => {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a channel by hand, exchanges messages with echo through it, batches, and closes it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'tessera.v1');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const client = new RawClient(ws);
    const me: [number, string][] = [[0, 'me']];

    // our identity: Ed25519; our Noise static key, and the proof binding them
    const id = generateKeyPairSync('ed25519');
    const idKey = id.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    const s = x25519();
    const proof = sign(null, Buffer.concat([Buffer.from('tessera.sc.v1 static', 'ascii'), s.pub]), id.privateKey);

    const ss = new Symmetric();
    ss.mixHash(Buffer.from('tessera.sc.v1', 'ascii')); // the prologue

    // -> e   (payload empty)
    const e = x25519();
    ss.mixHash(e.pub);
    const message1 = Buffer.concat([e.pub, ss.encryptAndHash(EMPTY)]);
    client.send([[0, 'secure_channel']], me, message1);

    // <- e, ee, s, es   (payload [identity_key, proof, credentials])
    const m2 = await client.next();
    expect(m2.onward).to.deep.equal(me);
    expect(m2.back).to.have.length(1);
    const channelAddress = m2.back;
    const re = m2.payload.subarray(0, 32);
    ss.mixHash(re);
    ss.mixKey(dh(e.priv, re));
    const rs = ss.decryptAndHash(m2.payload.subarray(32, 80));
    ss.mixKey(dh(e.priv, rs));
    const [theirKey, theirProof, theirCredentials] = unpackr.unpack(ss.decryptAndHash(m2.payload.subarray(80))) as [Buffer, Buffer, string[]];
    const theirPublic = createPublicKey({ key: Buffer.concat([ED25519_SPKI, theirKey]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.concat([Buffer.from('tessera.sc.v1 static', 'ascii'), rs]), theirPublic, theirProof)).to.equal(true);
    expect('I' + sha256(theirKey).toString('hex')).to.equal(nodeIdentifier);
    expect(theirCredentials).to.deep.equal([]);

    // -> s, se   (payload ours), to message 2's return route
    const encryptedStatic = ss.encryptAndHash(s.pub);
    ss.mixKey(dh(s.priv, re));
    const payload3 = ss.encryptAndHash(packr.pack([idKey, proof, []]));
    client.send(channelAddress, me, Buffer.concat([encryptedStatic, payload3]));
    const [sendKey, receiveKey] = hkdf(ss.ck, EMPTY); // Split(): the initiator sends with the first

    let sent = 0;
    let received = 0;
    const sendPlaintext = (plaintext: unknown[]) => {
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(sent));
      client.send(channelAddress, me, Buffer.concat([counter, seal(sendKey, sent++, EMPTY, packr.pack(plaintext))]));
    };
    const receivePlaintext = async () => {
      const frame = await client.next();
      expect(frame.onward).to.deep.equal(me);
      const n = Number(frame.payload.readBigUInt64BE(0));
      expect(n).to.equal(received++);
      return unpackr.unpack(open(receiveKey, n, EMPTY, frame.payload.subarray(8))) as unknown[];
    };

    // kind 0 to echo; the reply comes back through the channel
    sendPlaintext([0, [[0, 'echo']], [[0, 'my-reply']], Buffer.from('hello, tessera')]);
    const reply = await receivePlaintext();
    expect(reply[0]).to.equal(0);
    expect(reply[1]).to.deep.equal([[0, 'my-reply']]);
    expect(reply[2]).to.deep.equal([[0, 'echo']]);
    expect((reply[3] as Buffer).toString()).to.equal('hello, tessera');

    // kind 3: two messages in one ciphertext, answered in order
    sendPlaintext([3, [[[[0, 'echo']], [[0, 'a']], Buffer.from('one')], [[[0, 'echo']], [[0, 'b']], Buffer.from('two')]]]);
    const answers: unknown[][] = [];
    while (answers.length < 2) {
      const p = await receivePlaintext();
      if (p[0] === 0) answers.push(p);
      else for (const m of p[1] as unknown[][]) answers.push([0, ...m]);
    }
    expect(answers.map((a) => (a[3] as Buffer).toString())).to.deep.equal(['one', 'two']);

    // kind 1: close; afterwards the channel address is gone, so nothing answers
    sendPlaintext([1]);
    sendPlaintext([0, [[0, 'echo']], [[0, 'late']], Buffer.from('after close')]);
    client.send([[0, 'echo']], me, Buffer.from('plain'));
    expect((await client.next()).payload.toString()).to.equal('plain');
    // a second round trip, sent after the node had handled 'after close': had the channel still been there, its
    // (batched) echo would have gone out before this reply
    client.send([[0, 'echo']], me, Buffer.from('plain again'));
    expect((await client.next()).payload.toString()).to.equal('plain again');
    ws.close();
  });
});
