import { randomBytes } from 'node:crypto';
import { fromUtf8, local, type Logger, route, type Route, WS } from '@tessera/core';
import { Authority, type AuthorityOptions, type MemberStore } from '@tessera/authority';
import { createSecureChannel, Ed25519Identity, identifierOf, startSecureChannelListener, trustIdentifiers, type SecureChannel } from '@tessera/secure-channel';
import { anyone, fakeClock, makeNode, type TestNode } from '../../secure-channel/test/channel-helpers.js';

export type Answer = Record<string, unknown> & { result: 'success' | 'failure'; code?: string; message?: string };

/** A hub node: a secure channel listener and the authority worker, on a fake clock (the authority's). */
export interface TestHub extends TestNode {
  authority: Authority;
  identifier: string;
  /** The WebSocket address of the hub, and the route to its listener. */
  ws: Route;
  toListener: Route;
  tick: (ms: number) => void;
  clock: ReturnType<typeof fakeClock>['clock'];
  /** Every log entry, as JSON text. */
  logs: string[];
}

/** A logger that keeps each entry as one JSON line. */
function keepingLogger(lines: string[], bindings: object = {}): Logger {
  const write = (level: string) => (fields: object, message: string) => void lines.push(JSON.stringify({ level, ...bindings, ...fields, msg: message }));
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (more) => keepingLogger(lines, { ...bindings, ...more }) };
}

export async function startHub(store: MemberStore, options: Omit<AuthorityOptions, 'store' | 'identity' | 'clock'> = {}): Promise<TestHub> {
  const hub = makeNode('hub');
  const { clock, tick } = fakeClock();
  const logs: string[] = [];
  const authority = new Authority({ store, identity: hub.identity, clock, logger: keepingLogger(logs), ...options });
  await hub.node.startWorker('authority', authority);
  await startSecureChannelListener(hub.node, { identity: hub.identity, trust: anyone });
  const { port } = await hub.transport.listen();
  const ws = route({ type: WS, value: `127.0.0.1:${port}` });
  return { ...hub, authority, identifier: identifierOf(hub.identity.publicKey), ws, toListener: [...ws, local('secure_channel')], tick, clock, logs };
}

/** A device: a node with identities, each of which opens a channel to the hub and asks its authority. */
export class TestDevice {
  private constructor(
    readonly node: TestNode,
    private readonly hub: TestHub,
  ) {}

  static create(hub: TestHub): TestDevice {
    return new TestDevice(makeNode(`device-${randomBytes(2).toString('hex')}`), hub);
  }

  /** A channel to the hub for a new identity (or the node's own). */
  async channel(identity: Ed25519Identity = this.node.identity): Promise<Party> {
    const channel = await createSecureChannel(this.node.node, this.hub.toListener, { identity, trust: trustIdentifiers([this.hub.identifier]) });
    return new Party(this.node, channel, identity);
  }

  /** Sends a request in plaintext, straight over the WebSocket connection. */
  async plaintext(body: unknown): Promise<Answer> {
    const reply = await this.node.node.request([...this.hub.ws, local('authority')], JSON.stringify(body));
    return JSON.parse(fromUtf8(reply.payload)) as Answer;
  }
}

/** One identity's channel to the hub. */
export class Party {
  readonly identifier: string;
  constructor(
    private readonly device: TestNode,
    readonly channel: SecureChannel,
    readonly identity: Ed25519Identity,
  ) {
    this.identifier = identity.identifier;
  }

  async ask(body: unknown): Promise<Answer> {
    return JSON.parse(await this.askRaw(typeof body === 'string' ? body : JSON.stringify(body))) as Answer;
  }

  async askRaw(payload: string | Uint8Array): Promise<string> {
    const reply = await this.device.node.request([this.channel.address, local('authority')], payload);
    return fromUtf8(reply.payload);
  }
}
