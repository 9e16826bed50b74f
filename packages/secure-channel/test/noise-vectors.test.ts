import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HandshakeState, PATTERN_NAMES, x25519KeyPairFromPrivate, type CipherState } from '@tessera/secure-channel';

// Vendored cacophony vectors (MIT, see fixtures/noise-vectors.LICENSE-MIT); the test reads only this copy.
const Hex = z.string().regex(/^([0-9a-f]{2})*$/);
const VectorSchema = z.object({
  protocol_name: z.string(),
  init_prologue: Hex,
  init_static: Hex.optional(),
  init_ephemeral: Hex,
  init_remote_static: Hex.optional(),
  resp_prologue: Hex,
  resp_static: Hex.optional(),
  resp_ephemeral: Hex.optional(),
  resp_remote_static: Hex.optional(),
  handshake_hash: Hex,
  messages: z.array(z.object({ payload: Hex, ciphertext: Hex })),
});
const FileSchema = z.object({ source: z.string(), license: z.string(), vectors: z.array(VectorSchema) });
const file = FileSchema.parse(JSON.parse(readFileSync(new URL('./fixtures/noise-vectors-chachapoly.json', import.meta.url), 'utf8')));

const bytes = (hex: string) => Buffer.from(hex, 'hex');
const keyPair = (hex: string | undefined) => (hex === undefined ? undefined : x25519KeyPairFromPrivate(bytes(hex)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Noise vectors (cacophony, ChaChaPoly, SHA256)', () => {
  it('covers every ChaChaPoly pattern of the vendored file', () => {
    const names = file.vectors.map((v) => /^Noise_([A-Z0-9]+)_/.exec(v.protocol_name)![1]);
    expect(names).to.have.length(38);
    expect([...names].sort()).to.deep.equal([...PATTERN_NAMES].sort());
  });

  for (const vector of file.vectors) {
    const pattern = /^Noise_([A-Z0-9]+)_25519_ChaChaPoly_SHA256$/.exec(vector.protocol_name)![1]!;
    it(`reproduces ${vector.protocol_name}: every handshake and transport message and the handshake hash`, () => {
      const initiator = new HandshakeState({
        pattern,
        initiator: true,
        prologue: bytes(vector.init_prologue),
        s: keyPair(vector.init_static),
        e: keyPair(vector.init_ephemeral),
        rs: vector.init_remote_static === undefined ? undefined : bytes(vector.init_remote_static),
      });
      const responder = new HandshakeState({
        pattern,
        initiator: false,
        prologue: bytes(vector.resp_prologue),
        s: keyPair(vector.resp_static),
        e: keyPair(vector.resp_ephemeral),
        rs: vector.resp_remote_static === undefined ? undefined : bytes(vector.resp_remote_static),
      });
      const handshakeLength = initiator.pattern.messages.length;
      let i = 0;
      for (; i < handshakeLength; i++) {
        const { payload, ciphertext } = vector.messages[i]!;
        const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator];
        const message = writer.writeMessage(bytes(payload));
        expect(hex(message), `handshake message ${i}`).to.equal(ciphertext);
        expect(hex(reader.readMessage(message)), `payload ${i}`).to.equal(payload);
      }
      expect(initiator.isFinished && responder.isFinished).to.equal(true);
      expect(hex(initiator.handshakeHash)).to.equal(vector.handshake_hash);
      expect(hex(responder.handshakeHash)).to.equal(vector.handshake_hash);

      const a = initiator.transport();
      const b = responder.transport();
      for (; i < vector.messages.length; i++) {
        const { payload, ciphertext } = vector.messages[i]!;
        // after the handshake the turns keep alternating; a one-way pattern only lets the initiator send
        const fromInitiator = initiator.pattern.oneWay || i % 2 === 0;
        const [send, receive]: [CipherState, CipherState] = fromInitiator ? [a.send, b.receive] : [b.send, a.receive];
        const message = send.encryptWithAd(new Uint8Array(0), bytes(payload));
        expect(hex(message), `transport message ${i}`).to.equal(ciphertext);
        expect(hex(receive.decryptWithAd(new Uint8Array(0), message)!), `transport payload ${i}`).to.equal(payload);
      }
    });
  }
});
