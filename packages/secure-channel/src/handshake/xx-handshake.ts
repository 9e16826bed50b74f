import { HandshakeFailedError, HandshakeMessageRejectedError, InvalidProofError, UntrustedPeerError } from '../errors.js';
import { identifierOf } from '../identity/identifier.js';
import { verifyStaticKeyProof } from '../identity/static-proof.js';
import { HandshakeState } from '../noise/handshake-state.js';
import type { LocalParty } from './local-party.js';
import { decodeHandshakePayload, encodeHandshakePayload } from './payload.js';
import type { EstablishedChannel, Peer, TrustCheck } from './peer.js';

/** The 13 ASCII bytes every channel's handshake hashes first (docs/protocol.md §5). */
export const PROLOGUE = Buffer.from('tessera.sc.v1', 'ascii');

const EMPTY = new Uint8Array(0);

/**
 * The initiator of a channel handshake (docs/protocol.md §5):
 * `start()` gives message 1, `receive(message2)` checks the responder and
 * gives message 3, after which `channel` is set. Any failure ends it.
 */
export class InitiatorHandshake {
  private readonly noise: HandshakeState;
  private readonly step = new Steps();
  private established: EstablishedChannel | undefined;

  constructor(
    private readonly local: LocalParty,
    private readonly trust: TrustCheck,
  ) {
    this.noise = new HandshakeState({ pattern: 'XX', initiator: true, prologue: PROLOGUE, s: local.staticKey });
  }

  /** Message 1: `-> e`, empty payload. */
  start(): Uint8Array {
    return this.noise.writeMessage(EMPTY);
  }

  /**
   * Reads message 2 and checks the responder's proof: the responder, then
   * `accept` it. A message 2 that does not authenticate throws
   * HandshakeMessageRejectedError and changes nothing: the genuine one may follow.
   */
  read(message2: Uint8Array): Peer {
    return readPeer(this.step, this.noise, message2);
  }

  /** Checks the responder read from message 2 against our trust policy and returns message 3. */
  async accept(peer: Peer): Promise<Uint8Array> {
    this.step.begin();
    try {
      await checkTrust(this.trust, peer);
      const message3 = this.noise.writeMessage(ourPayload(this.local));
      this.established = establish(this.noise, peer);
      return message3;
    } catch (err) {
      throw this.step.fail(err);
    } finally {
      this.step.end();
    }
  }

  /** Reads message 2, checks the responder's proof and trust, and returns message 3. */
  async receive(message2: Uint8Array): Promise<Uint8Array> {
    return this.accept(this.read(message2));
  }

  /** The channel, once message 3 has been written. */
  get channel(): EstablishedChannel | undefined {
    return this.established;
  }
}

/**
 * The responder of a channel handshake: `respond(message1)` gives message 2,
 * `finish(message3)` checks the initiator and returns the channel.
 */
export class ResponderHandshake {
  private readonly noise: HandshakeState;
  private readonly step = new Steps();

  constructor(
    private readonly local: LocalParty,
    private readonly trust: TrustCheck,
  ) {
    this.noise = new HandshakeState({ pattern: 'XX', initiator: false, prologue: PROLOGUE, s: local.staticKey });
  }

  /** Reads message 1 (its payload must be empty) and returns message 2: `<- e, ee, s, es` with our payload. */
  respond(message1: Uint8Array): Uint8Array {
    this.step.begin();
    try {
      if (this.noise.readMessage(message1).length !== 0) throw new HandshakeFailedError('message 1 must have an empty payload');
      return this.noise.writeMessage(ourPayload(this.local));
    } catch (err) {
      throw this.step.fail(err);
    } finally {
      this.step.end();
    }
  }

  /**
   * Reads message 3 and checks the initiator's proof: the initiator, then
   * `admit` it. A message 3 that does not authenticate (only the initiator can
   * write one that does) throws HandshakeMessageRejectedError and changes
   * nothing: the genuine one may follow.
   */
  read(message3: Uint8Array): Peer {
    return readPeer(this.step, this.noise, message3);
  }

  /** Checks the initiator read from message 3 against our trust policy and returns the channel. */
  async admit(peer: Peer): Promise<EstablishedChannel> {
    this.step.begin();
    try {
      await checkTrust(this.trust, peer);
      return establish(this.noise, peer);
    } catch (err) {
      throw this.step.fail(err);
    } finally {
      this.step.end();
    }
  }

  /** Reads message 3, checks the initiator's proof and trust, and returns the channel. */
  async finish(message3: Uint8Array): Promise<EstablishedChannel> {
    return this.admit(this.read(message3));
  }
}

/** The peer of the next handshake message; one that does not authenticate is dropped without a trace. */
function readPeer(step: Steps, noise: HandshakeState, message: Uint8Array): Peer {
  step.begin();
  try {
    const payload = noise.tryReadMessage(message);
    if (payload === undefined) throw new HandshakeMessageRejectedError('a handshake message did not authenticate; it was dropped');
    return peerOf(noise, payload);
  } catch (err) {
    if (err instanceof HandshakeMessageRejectedError) throw err;
    throw step.fail(err);
  } finally {
    step.end();
  }
}

/** One step at a time (a trust check may await), and none after a failure. */
class Steps {
  private busy = false;
  private failed = false;

  begin(): void {
    if (this.failed) throw new HandshakeFailedError('the handshake has failed');
    if (this.busy) throw new HandshakeFailedError('a handshake step is already under way');
    this.busy = true;
  }

  end(): void {
    this.busy = false;
  }

  fail(err: unknown): unknown {
    this.failed = true;
    return err;
  }
}

function ourPayload(local: LocalParty): Uint8Array {
  return encodeHandshakePayload({ identityKey: local.identityKey, proof: local.proof, credentials: local.credentials });
}

/** The peer named by a handshake payload, once its proof binds the Noise static key Noise just authenticated. */
function peerOf(noise: HandshakeState, payloadBytes: Uint8Array): Peer {
  const payload = decodeHandshakePayload(payloadBytes);
  const staticKey = noise.remoteStatic;
  if (staticKey === undefined || !verifyStaticKeyProof(payload.identityKey, staticKey, payload.proof)) {
    throw new InvalidProofError('the peer’s proof does not verify for its Noise static key');
  }
  return Object.freeze({
    identifier: identifierOf(payload.identityKey),
    identityKey: payload.identityKey,
    staticKey,
    credentials: Object.freeze([...payload.credentials]),
  });
}

async function checkTrust(trust: TrustCheck, peer: Peer): Promise<void> {
  let trusted: boolean;
  try {
    trusted = await trust(peer);
  } catch (err) {
    throw new UntrustedPeerError(`peer ${peer.identifier} is not trusted`, { cause: err });
  }
  if (trusted !== true) throw new UntrustedPeerError(`peer ${peer.identifier} is not trusted`);
}

function establish(noise: HandshakeState, peer: Peer): EstablishedChannel {
  const { send, receive } = noise.transport();
  return Object.freeze({ peer, send, receive, handshakeHash: noise.handshakeHash });
}
