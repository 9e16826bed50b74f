import FakeTimers from '@sinonjs/fake-timers';
import { type Clock, type Context, local, type Message, Node, randomId64, type Route, silentLogger } from '@tessera/core';
import { createLocalParty, Ed25519Identity, InitiatorHandshake, type Signer, trustAnyPeer, type TrustPolicy, trustFunction } from '@tessera/secure-channel';
import { WebSocketTransport, type WsTransportOptions } from '@tessera/transport-ws';

export interface TestNode {
  node: Node;
  transport: WebSocketTransport;
  identity: Ed25519Identity;
}

const started: Node[] = [];

/** A node with a WebSocket transport and a fresh identity; stopped by stopAll. */
export function makeNode(name: string, options: { clock?: Clock; ws?: WsTransportOptions } = {}): TestNode {
  const node = new Node({ name, logger: silentLogger, ...(options.clock ? { clock: options.clock } : {}) });
  const transport = new WebSocketTransport(node, options.ws ?? {});
  started.push(node);
  return { node, transport, identity: Ed25519Identity.generate() };
}

/** Stops every node made since the last call. */
export async function stopAll(): Promise<void> {
  const nodes = started.splice(0);
  await Promise.all(nodes.map((n) => n.stop({ timeout: 100 })));
}

/** Trust that admits everyone, without the development warning (tests only). */
export const anyone: TrustPolicy = trustFunction(() => true);

/** A fake clock for a node's timers. */
export function fakeClock(): { clock: Clock; tick: (ms: number) => void } {
  const fake = FakeTimers.createClock(Date.now());
  return { clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout }, tick: (ms) => void fake.tick(ms) };
}

/** A worker that keeps what it receives and lets the test wait for the n-th message. */
export class Inbox {
  readonly messages: Message[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  readonly worker = (_ctx: Context, msg: Message): void => {
    this.messages.push(msg);
    for (const w of this.waiters.filter((w) => this.messages.length >= w.n)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.messages.length < w.n);
  };

  /** Resolves once `n` messages have arrived. */
  count(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

/** A handshake the test drives by hand: message 1 goes now; `finish()` sends message 3 once message 2 has come. */
export async function handshakeByHand(from: TestNode, toListener: Route, identity: Signer = from.identity) {
  const initiator = new InitiatorHandshake(await createLocalParty({ signer: identity }), trustAnyPeer);
  const answers = new Inbox();
  const name = `by-hand.${randomId64()}`;
  await from.node.startWorker(name, answers.worker);
  from.node.send(toListener, initiator.start(), { returnRoute: [local(name)] });
  return {
    /** Whether message 2 has come. */
    answered: () => answers.messages.length > 0,
    async finish(): Promise<void> {
      await answers.count(1);
      const message2 = answers.messages[0]!;
      from.node.send(message2.return, await initiator.receive(message2.payload), { returnRoute: [local(name)] });
    },
  };
}

/**
 * A hop on the responder's node that sees every message of a channel in
 * both directions (it is in the route to the listener, so in every return
 * route after it) and can hold, drop or rewrite what goes to the channel
 * address.
 */
export class Tap {
  /** Ciphertexts seen on their way to the responder's channel address, as they were. */
  readonly toResponder: Message[] = [];
  /** Return false to keep a message back (it is kept in `held`). */
  pass: (msg: Message) => boolean = () => true;
  readonly held: Message[] = [];
  private ctx: Context | undefined;

  readonly worker = (ctx: Context, msg: Message): void => {
    this.ctx = ctx;
    const towardResponder = msg.onward.length === 2 && msg.onward[1]!.value.startsWith('sc.');
    if (towardResponder) this.toResponder.push(msg);
    if (towardResponder && !this.pass(msg)) {
      this.held.push(msg);
      return;
    }
    ctx.forward(msg);
  };

  /** Sends a message on as if it had just arrived (a replay, a late one, a forgery). */
  inject(msg: Message, payload: Uint8Array = msg.payload): void {
    this.ctx!.forward({ ...msg, payload });
  }
}
