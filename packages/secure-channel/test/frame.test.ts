import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  ChaChaPolyKey,
  CipherState,
  FrameReceiver,
  FrameSender,
  REKEY_INTERVAL,
  WINDOW_ABOVE,
  WINDOW_BELOW,
} from '@tessera/secure-channel';

const EMPTY = new Uint8Array(0);

/** The §5 encoding, built independently of FrameSender: key after floor(n/1024) REKEYs, BE counter, Noise nonce n. */
function sealAt(handshakeKey: Uint8Array, n: number, plaintext: Uint8Array): Buffer {
  let key = new ChaChaPolyKey(handshakeKey);
  for (let j = 0; j < Math.floor(n / REKEY_INTERVAL); j++) key = key.rekey();
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(n));
  return Buffer.concat([counter, key.seal(n, EMPTY, plaintext)]);
}

function pair() {
  const key = randomBytes(32);
  return { key, sender: new FrameSender(new CipherState(key)), receiver: new FrameReceiver(new CipherState(key)) };
}

const text = (r: ReturnType<FrameReceiver['open']>) => (r.ok ? Buffer.from(r.plaintext).toString() : `dropped: ${r.reason}`);

describe('encrypted messages (docs/protocol.md §5 framing)', () => {
  it('are an 8-byte big-endian counter, then ChaChaPoly under nonce n with empty associated data', () => {
    const { key, sender } = pair();
    const first = sender.seal(Buffer.from('zero'));
    const second = sender.seal(Buffer.from('one'));
    expect(first).to.deep.equal(sealAt(key, 0, Buffer.from('zero')));
    expect(second).to.deep.equal(sealAt(key, 1, Buffer.from('one')));
    expect(second.subarray(0, 8).toString('hex')).to.equal('0000000000000001');
  });

  it('go through several REKEYs in order, each counter under the key after floor(n/1024) REKEYs', () => {
    const { key, sender, receiver } = pair();
    const total = 3 * REKEY_INTERVAL + 5;
    for (let n = 0; n < total; n++) {
      const frame = sender.seal(Buffer.from(`m${n}`));
      if (n % REKEY_INTERVAL === 0 || n % REKEY_INTERVAL === REKEY_INTERVAL - 1) expect(frame).to.deep.equal(sealAt(key, n, Buffer.from(`m${n}`)));
      expect(text(receiver.open(frame))).to.equal(`m${n}`);
    }
    expect(receiver.highestAccepted).to.equal(total - 1);
    expect(receiver.drops).to.deep.equal({ tampered: 0, replayed: 0, too_old: 0, too_far: 0, garbage: 0 });
  });

  it('accept messages reordered within the window, across an epoch boundary', () => {
    const { key, receiver } = pair();
    const order = [1020, 1030, 1025, 1023, 1024, 1029, 1000];
    for (const n of order) expect(text(receiver.open(sealAt(key, n, Buffer.from(`m${n}`))))).to.equal(`m${n}`);
    expect(receiver.highestAccepted).to.equal(1030);
  });

  it('drop a replay, even long after, and count it', () => {
    const { sender, receiver } = pair();
    const frame = sender.seal(Buffer.from('once'));
    expect(text(receiver.open(frame))).to.equal('once');
    expect(receiver.open(frame)).to.deep.equal({ ok: false, reason: 'replayed' });
    for (let i = 0; i < 10; i++) receiver.open(sender.seal(Buffer.from('more')));
    expect(receiver.open(frame)).to.deep.equal({ ok: false, reason: 'replayed' });
    expect(receiver.drops.replayed).to.equal(2);
  });

  it('drop a counter more than 64 below the highest accepted, and accept one exactly 64 below', () => {
    const { key, receiver } = pair();
    expect(receiver.open(sealAt(key, 200, Buffer.from('high'))).ok).to.equal(true);
    expect(receiver.open(sealAt(key, 200 - WINDOW_BELOW - 1, Buffer.from('old')))).to.deep.equal({ ok: false, reason: 'too_old' });
    expect(text(receiver.open(sealAt(key, 200 - WINDOW_BELOW, Buffer.from('edge'))))).to.equal('edge');
    expect(receiver.drops.too_old).to.equal(1);
  });

  it('drop a counter more than 65,536 above the highest accepted, unread; accept a real jump of 60 epochs', () => {
    const { key, receiver } = pair();
    expect(receiver.open(sealAt(key, 10, Buffer.from('ten'))).ok).to.equal(true);
    const far = Buffer.alloc(8 + 40);
    far.writeBigUInt64BE(BigInt(10 + WINDOW_ABOVE + 1));
    expect(receiver.open(far)).to.deep.equal({ ok: false, reason: 'too_far' });
    const huge = Buffer.alloc(8 + 40, 0xff);
    expect(receiver.open(huge)).to.deep.equal({ ok: false, reason: 'too_far' });
    const n = 10 + 60 * REKEY_INTERVAL;
    expect(text(receiver.open(sealAt(key, n, Buffer.from('far but real'))))).to.equal('far but real');
    expect(receiver.drops.too_far).to.equal(2);
  });

  it('move the window only after a message authenticates: forged far counters change nothing', () => {
    const { key, receiver } = pair();
    expect(receiver.open(sealAt(key, 0, Buffer.from('zero'))).ok).to.equal(true);
    for (const n of [5000, 60_000, 65_536]) {
      const forged = sealAt(randomBytes(32), n, Buffer.from('forged'));
      expect(receiver.open(forged)).to.deep.equal({ ok: false, reason: 'tampered' });
    }
    expect(receiver.highestAccepted).to.equal(0);
    expect(text(receiver.open(sealAt(key, 1, Buffer.from('one'))))).to.equal('one');
    expect(receiver.drops.tampered).to.equal(3);
  });

  it('spend at most 64 REKEYs in all on forged far counters, however many arrive', () => {
    const { key, receiver } = pair();
    const rekey = ChaChaPolyKey.prototype.rekey;
    let rekeys = 0;
    ChaChaPolyKey.prototype.rekey = function (this: ChaChaPolyKey) {
      rekeys++;
      return rekey.call(this);
    };
    try {
      for (let i = 0; i < 200; i++) {
        const forged = Buffer.concat([Buffer.alloc(8), randomBytes(40)]);
        forged.writeBigUInt64BE(BigInt(WINDOW_ABOVE - 1 - i));
        receiver.open(forged);
      }
    } finally {
      ChaChaPolyKey.prototype.rekey = rekey;
    }
    expect(receiver.drops.tampered).to.equal(200);
    expect(rekeys).to.be.at.most(WINDOW_ABOVE / REKEY_INTERVAL);
    expect(text(receiver.open(sealAt(key, 3, Buffer.from('still fine'))))).to.equal('still fine');
  });

  it('drop a tampered ciphertext, tag or counter', () => {
    const { sender, receiver } = pair();
    const frame = sender.seal(Buffer.from('precious'));
    for (const at of [7, 8, frame.length - 1]) {
      const bent = Buffer.from(frame);
      bent[at]! ^= 1;
      expect(receiver.open(bent), `byte ${at}`).to.deep.equal({ ok: false, reason: 'tampered' });
    }
    expect(text(receiver.open(frame))).to.equal('precious');
    expect(receiver.drops.tampered).to.equal(3);
  });

  it('drop truncated messages as garbage, and one truncated inside its ciphertext as tampered', () => {
    const { sender, receiver } = pair();
    const frame = sender.seal(Buffer.from('a message of some length'));
    expect(receiver.open(frame.subarray(0, 5))).to.deep.equal({ ok: false, reason: 'garbage' });
    expect(receiver.open(frame.subarray(0, 8 + 15))).to.deep.equal({ ok: false, reason: 'garbage' });
    expect(receiver.open(frame.subarray(0, frame.length - 3))).to.deep.equal({ ok: false, reason: 'tampered' });
    expect(receiver.open(new Uint8Array(0))).to.deep.equal({ ok: false, reason: 'garbage' });
    expect(receiver.drops).to.deep.include({ garbage: 3, tampered: 1 });
    expect(text(receiver.open(frame))).to.equal('a message of some length');
  });

  it('carry an empty plaintext', () => {
    const { sender, receiver } = pair();
    const frame = sender.seal(EMPTY);
    expect(frame.length).to.equal(24);
    const result = receiver.open(frame);
    expect(result.ok && result.plaintext.length).to.equal(0);
  });

  it('seal into a caller’s buffer at an offset', () => {
    const { key, sender } = pair();
    const out = Buffer.alloc(100, 0xaa);
    const length = sender.sealInto(Buffer.from('xyz'), out, 10);
    expect(length).to.equal(8 + 3 + 16);
    expect(out.subarray(10, 10 + length)).to.deep.equal(sealAt(key, 0, Buffer.from('xyz')));
    expect(out[9]).to.equal(0xaa);
    expect(out[10 + length]).to.equal(0xaa);
  });
});
