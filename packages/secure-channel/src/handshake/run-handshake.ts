import type { LocalParty } from './local-party.js';
import type { EstablishedChannel, TrustCheck } from './peer.js';
import { InitiatorHandshake, ResponderHandshake } from './xx-handshake.js';

/** Options of runHandshake. */
export interface RunHandshakeOptions {
  initiatorTrust: TrustCheck;
  responderTrust: TrustCheck;
  /** Carries each message (index 0..2) from one side to the other; tests use it to tamper in flight. */
  wire?: (message: Uint8Array, index: number) => Uint8Array;
}

/** Runs the whole XX handshake between two parties in memory; rejects as soon as either side refuses. */
export async function runHandshake(
  initiator: LocalParty,
  responder: LocalParty,
  options: RunHandshakeOptions,
): Promise<{ initiator: EstablishedChannel; responder: EstablishedChannel }> {
  const wire = options.wire ?? ((message) => message);
  const i = new InitiatorHandshake(initiator, options.initiatorTrust);
  const r = new ResponderHandshake(responder, options.responderTrust);
  const message2 = r.respond(wire(i.start(), 0));
  const message3 = await i.receive(wire(message2, 1));
  const responderChannel = await r.finish(wire(message3, 2));
  return { initiator: i.channel!, responder: responderChannel };
}
