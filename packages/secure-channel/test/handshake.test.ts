import { expect } from 'chai';
import {
  createLocalParty,
  decodeHandshakePayload,
  Ed25519Identity,
  encodeHandshakePayload,
  generateX25519KeyPair,
  HandshakeFailedError,
  HandshakeMessageRejectedError,
  HandshakeState,
  InitiatorHandshake,
  InvalidHandshakePayloadError,
  InvalidProofError,
  MAX_CREDENTIALS,
  PROLOGUE,
  ResponderHandshake,
  runHandshake,
  signStaticKey,
  trustAnyPeer,
  UntrustedPeerError,
  withCredentials,
  type LocalParty,
} from '@tessera/secure-channel';
import { Packr } from 'msgpackr';

const EMPTY = new Uint8Array(0);
const trustBoth = { initiatorTrust: trustAnyPeer, responderTrust: trustAnyPeer };

async function party(credentials: string[] = []): Promise<LocalParty & { identity: Ed25519Identity }> {
  const identity = Ed25519Identity.generate();
  return { ...(await createLocalParty({ signer: identity, credentials })), identity };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as Error,
  );
}

describe('channel handshake (Noise XX with identity payloads)', () => {
  it('gives each side the other’s identifier and credentials, one handshake hash and working ciphers', async () => {
    const alice = await party(['cred-a']);
    const bob = await party(['cred-b1', 'cred-b2']);
    const { initiator, responder } = await runHandshake(alice, bob, trustBoth);
    expect(initiator.peer.identifier).to.equal(bob.identity.identifier);
    expect(responder.peer.identifier).to.equal(alice.identity.identifier);
    expect(initiator.peer.credentials).to.deep.equal(['cred-b1', 'cred-b2']);
    expect(responder.peer.credentials).to.deep.equal(['cred-a']);
    expect(Buffer.from(initiator.handshakeHash)).to.deep.equal(Buffer.from(responder.handshakeHash));
    const sealed = initiator.send.encryptWithAd(EMPTY, Buffer.from('hi bob'));
    expect(Buffer.from(responder.receive.decryptWithAd(EMPTY, sealed)!).toString()).to.equal('hi bob');
    const back = responder.send.encryptWithAd(EMPTY, Buffer.from('hi alice'));
    expect(Buffer.from(initiator.receive.decryptWithAd(EMPTY, back)!).toString()).to.equal('hi alice');
  });

  it('hashes the prologue tessera.sc.v1: a side with another prologue cannot finish', async () => {
    const bob = await party();
    const stranger = new HandshakeState({ pattern: 'XX', initiator: true, prologue: Buffer.from('other'), s: generateX25519KeyPair() });
    const responder = new ResponderHandshake(bob, trustAnyPeer);
    const message2 = responder.respond(stranger.writeMessage(EMPTY));
    expect(() => stranger.readMessage(message2)).to.throw(HandshakeFailedError);
  });

  it('refuses a wrong proof (signed for another Noise static key)', async () => {
    const alice = await party();
    const bob = await party();
    const forger: LocalParty = { ...bob, proof: await signStaticKey(bob.identity, generateX25519KeyPair().publicKey) };
    const err = await rejection(runHandshake(alice, forger, trustBoth));
    expect(err).to.be.instanceOf(InvalidProofError);
    expect((err as InvalidProofError).code).to.equal('INVALID_PROOF');
  });

  it('refuses a swapped identity key (someone else’s key with our proof)', async () => {
    const alice = await party();
    const bob = await party();
    const victim = Ed25519Identity.generate();
    const impostor: LocalParty = { ...alice, identityKey: victim.publicKey, identifier: victim.identifier };
    const seen: number[] = [];
    const err = await rejection(
      runHandshake(impostor, bob, {
        ...trustBoth,
        wire: (message, index) => {
          seen.push(index);
          return message;
        },
      }),
    );
    expect(err).to.be.instanceOf(InvalidProofError);
    expect(seen).to.deep.equal([0, 1, 2]); // refused by the responder, on message 3
  });

  for (const index of [0, 1, 2]) {
    it(`a tampered handshake message ${index + 1} does not authenticate: it is dropped unread`, async () => {
      const alice = await party();
      const bob = await party();
      const err = await rejection(
        runHandshake(alice, bob, {
          ...trustBoth,
          wire: (message, i) => {
            if (i !== index) return message;
            const bent = Buffer.from(message);
            bent[bent.length - 1]! ^= 0x80;
            return bent;
          },
        }),
      );
      // message 1 is read in clear: the damage shows when message 2 does not authenticate for the initiator
      expect(err).to.be.instanceOf(HandshakeMessageRejectedError);
    });
  }

  it('a forged message 2 or 3 changes nothing: the genuine one that follows finishes the handshake', async () => {
    const alice = await party();
    const bob = await party();
    const initiator = new InitiatorHandshake(alice, trustAnyPeer);
    const responder = new ResponderHandshake(bob, trustAnyPeer);
    const message2 = responder.respond(initiator.start());
    for (const forged of [bent(message2, 50), new Uint8Array(10), bent(message2, message2.length - 1)]) {
      expect(() => initiator.read(forged)).to.throw(HandshakeMessageRejectedError);
    }
    const message3 = await initiator.receive(message2);
    for (const forged of [bent(message3, 5), new Uint8Array(0), bent(message3, message3.length - 1)]) {
      expect(() => responder.read(forged)).to.throw(HandshakeMessageRejectedError);
    }
    const channel = await responder.finish(message3);
    expect(channel.peer.identifier).to.equal(alice.identity.identifier);
    expect(Buffer.from(channel.handshakeHash)).to.deep.equal(Buffer.from(initiator.channel!.handshakeHash));
  });

  it('refuses a message 1 with a payload', async () => {
    const bob = await party();
    const chatty = new HandshakeState({ pattern: 'XX', initiator: true, prologue: PROLOGUE, s: generateX25519KeyPair() });
    const responder = new ResponderHandshake(bob, trustAnyPeer);
    expect(() => responder.respond(chatty.writeMessage(Buffer.from('hello')))).to.throw(HandshakeFailedError, /empty payload/);
  });

  it('the initiator sends nothing more when its trust check refuses the responder', async () => {
    const alice = await party();
    const bob = await party();
    const sent: number[] = [];
    let asked: string | undefined;
    const err = await rejection(
      runHandshake(alice, bob, {
        initiatorTrust: (peer) => {
          asked = peer.identifier;
          return false;
        },
        responderTrust: trustAnyPeer,
        wire: (message, index) => {
          sent.push(index);
          return message;
        },
      }),
    );
    expect(err).to.be.instanceOf(UntrustedPeerError);
    expect(asked).to.equal(bob.identity.identifier);
    expect(sent).to.deep.equal([0, 1]);
  });

  it('the responder refuses an initiator its trust check refuses, even with a throwing check', async () => {
    const alice = await party();
    const bob = await party();
    const err = await rejection(
      runHandshake(alice, bob, {
        initiatorTrust: trustAnyPeer,
        responderTrust: () => {
          throw new Error('policy store down');
        },
      }),
    );
    expect(err).to.be.instanceOf(UntrustedPeerError);
  });

  it('a handshake that failed takes no further step', async () => {
    const alice = await party();
    const bob = await party();
    const initiator = new InitiatorHandshake(alice, () => false);
    const responder = new ResponderHandshake(bob, trustAnyPeer);
    const message2 = responder.respond(initiator.start());
    expect(await rejection(initiator.receive(message2))).to.be.instanceOf(UntrustedPeerError);
    const err = await rejection(initiator.receive(message2));
    expect(err).to.be.instanceOf(HandshakeFailedError);
    expect(err.message).to.match(/has failed/);
  });


  it('carries new credentials after withCredentials', async () => {
    const alice = withCredentials(await party(['old']), ['new']);
    const { responder } = await runHandshake(alice, await party(), trustBoth);
    expect(responder.peer.credentials).to.deep.equal(['new']);
  });
});

describe('handshake payload', () => {
  const packr = new Packr({ useRecords: false });
  const key = Buffer.alloc(32, 1);
  const proof = Buffer.alloc(64, 2);

  it('is the MessagePack array [bin 32, bin 64, [str...]]', () => {
    const bytes = encodeHandshakePayload({ identityKey: key, proof, credentials: ['a'] });
    expect(bytes.toString('hex')).to.equal(packr.pack([key, proof, ['a']]).toString('hex'));
    expect(bytes[0]).to.equal(0x93);
    expect(bytes[1]).to.equal(0xc4); // bin 8
    const decoded = decodeHandshakePayload(bytes);
    expect(Buffer.from(decoded.identityKey)).to.deep.equal(key);
    expect(decoded.credentials).to.deep.equal(['a']);
  });

  const bad: [string, unknown][] = [
    ['a map', new Map([['identity_key', key]])],
    ['two items', [key, proof]],
    ['a short key', [key.subarray(1), proof, []]],
    ['a key as a string', [key.toString('hex').slice(0, 32), proof, []]],
    ['a short proof', [key, proof.subarray(1), []]],
    ['a credential that is not a string', [key, proof, [1]]],
    ['too many credentials', [key, proof, Array.from({ length: MAX_CREDENTIALS + 1 }, () => 'c')]],
    ['too long a credential', [key, proof, ['x'.repeat(8193)]]],
  ];
  for (const [what, value] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => decodeHandshakePayload(packr.pack(value))).to.throw(InvalidHandshakePayloadError);
    });
  }

  it('refuses trailing bytes and bytes that are not MessagePack', () => {
    const bytes = encodeHandshakePayload({ identityKey: key, proof, credentials: [] });
    expect(() => decodeHandshakePayload(Buffer.concat([bytes, Buffer.from([0])]))).to.throw(InvalidHandshakePayloadError);
    expect(() => decodeHandshakePayload(Buffer.from([0xc1]))).to.throw(InvalidHandshakePayloadError);
  });
});

function bent(message: Uint8Array, at: number): Uint8Array {
  const copy = Buffer.from(message);
  copy[at]! ^= 1;
  return copy;
}
