import type { Message } from './message.js';

/**
 * Who may reach a worker or sink: called with each message routed to it,
 * true lets it in. A refused message is dropped and counted
 * (`access_denied`); a local request refused fails at once with
 * AccessDeniedError. It sees `msg.local`, which only the receiving node sets
 * (`connection` for what came from a peer, `identity` for what a secure
 * channel vouches for), never anything a peer can forge.
 */
export type IncomingAccess = (msg: Message) => boolean;

/** Named policies; combine them with `anyOf`, or write your own with `where`. */
export const IncomingAccess = Object.freeze({
  /** Anyone: senders on this node and peers over any transport (the default for workers). */
  any: ((_msg: Message) => true) as IncomingAccess,
  /** Senders on this node only: nothing that arrived over a transport or through a secure channel. */
  local: ((msg: Message) => msg.local.connection === undefined && msg.local.identity === undefined) as IncomingAccess,
  /** Only messages that arrived from a peer over a transport. */
  fromPeers: ((msg: Message) => msg.local.connection !== undefined) as IncomingAccess,
  /** A policy of your own (e.g. one that asks for `msg.local.identity`). */
  where: (predicate: (msg: Message) => boolean): IncomingAccess => predicate,
  /** Lets in what at least one of the policies lets in. */
  anyOf:
    (...policies: IncomingAccess[]): IncomingAccess =>
    (msg) =>
      policies.some((allows) => allows(msg)),
});
