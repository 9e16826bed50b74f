// Secure hubs started in the test's process (startHub, an identity file in a
// folder of the test's own) and peers that reach them through secure channels
// of their own identity: what the hub tests and the console's tests share.
// Everything started is stopped, last first, by `stop()` (an afterEach).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, local, Node, route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, type SecureChannel, trustIdentifiers } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { HubConfigSchema, type HubConfigInput } from '../src/hub/hub-config.js';
import { type Hub, type HubInternals, startHub } from '../src/hub/start-hub.js';

/** What a hub's workers answer, as the tests read it (every field but `result` as the request's kind has it). */
export interface Answer {
  result: 'success' | 'failure';
  code?: string;
  message?: string;
  request_id?: string;
  lease?: { id: string; value: string; expires: string };
  leases?: { id: string }[];
  token?: string;
  credential?: string;
  subscription?: string;
  snapshot?: unknown;
}

/** A node of its own with a secure channel to a hub, pinned to the hub's identifier. */
export interface SecurePeer {
  identity: Ed25519Identity;
  node: Node;
  channel: SecureChannel;
  /** Sends JSON to one of the hub's workers through the channel; resolves with the answer. */
  ask(worker: string, body: object): Promise<Answer>;
}

interface Stoppable {
  stop(): Promise<void>;
}

export class SecureHubFixture {
  /** The test's own folder (the hub's identity file is in it), removed by `stop()`. */
  readonly dir: string;
  private readonly running: Stoppable[] = [];

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  }

  /** A secure hub on a free loopback port, silent, with its identity in `dir`; `config` adds to or overrides that. */
  async hub(config: HubConfigInput = {}, internals: HubInternals = {}): Promise<Hub> {
    const h = await startHub(HubConfigSchema.parse({ listen: '127.0.0.1:0', identity: join(this.dir, 'hub.json'), logLevel: 'silent', ...config }), silentLogger, process.env, internals);
    return this.track(h);
  }

  /** A node with a WebSocket transport and no channel yet. */
  node(): Node {
    const node = new Node({ logger: silentLogger });
    new WebSocketTransport(node);
    return this.track(node);
  }

  /** A peer of `identity` (a new one by default) with a channel to `h`. */
  async peer(h: Hub, identity = Ed25519Identity.generate()): Promise<SecurePeer> {
    const node = this.node();
    const channel = await createSecureChannel(node, route(`3#127.0.0.1:${h.listener.port}`, 'secure_channel'), { identity, trust: trustIdentifiers([h.secure!.identifier]) });
    const ask = async (worker: string, body: object): Promise<Answer> => JSON.parse(fromUtf8((await node.request([channel.address, local(worker)], JSON.stringify(body))).payload)) as Answer;
    return { identity, node, channel, ask };
  }

  /** Stops `thing` with the rest, last first. */
  track<T extends Stoppable>(thing: T): T {
    this.running.push(thing);
    return thing;
  }

  /** Stops `thing` now (a hub the test restarts); `stop()` then leaves it be. */
  async stopNow(thing: Stoppable): Promise<void> {
    const at = this.running.indexOf(thing);
    if (at >= 0) this.running.splice(at, 1);
    await thing.stop();
  }

  /** Stops everything started, last first, and removes the folder. */
  async stop(): Promise<void> {
    for (const thing of this.running.splice(0).reverse()) await thing.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
