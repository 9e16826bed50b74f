// A secure hub for tests (docs/protocol.md §4, §5): the fixture hub with a
// secure-channel listener and a `membership` backed by a Map, and devices that
// reach its token_lease worker only through a secure channel of their own identity.
import { fromUtf8, local, Node, route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, type SecureChannel, startSecureChannelListener, trustFunction, trustIdentifiers } from '@tessera/secure-channel';
import type { LeaseResponse, MemberStanding } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { type HubFixture, startHub } from './fixtures.js';

export interface SecureHub {
  fx: HubFixture;
  /** Who is a member now: the hub asks at every request. */
  members: Map<string, MemberStanding>;
  /** How often the hub asked. */
  lookups(): number;
  /** While true, asking fails as a member store that cannot be reached would. */
  storeDown: boolean;
  /** Makes lookups wait (those under way and later ones) until the function it returns is called. */
  holdLookups(): () => void;
  /** The hub's identifier (devices trust only it). */
  identifier: string;
  close(): Promise<void>;
}

/** The fixture hub (same options), made secure. */
export async function startSecureHub(options: Parameters<typeof startHub>[0] = {}): Promise<SecureHub> {
  const members = new Map<string, MemberStanding>();
  let lookups = 0;
  let held: Promise<void> | undefined;
  const membership = async (identifier: string) => {
    lookups++;
    if (held !== undefined) await held;
    if (hub.storeDown) throw new Error('connect ECONNREFUSED redis://:secret-password@127.0.0.1:1');
    return members.get(identifier);
  };
  const fx = await startHub({ ...options, worker: { ...options.worker, membership } });
  const identity = Ed25519Identity.generate();
  // any identity may open a channel: being a member is what the lease worker asks
  const listener = await startSecureChannelListener(fx.hub, { identity, trust: trustFunction(() => true) });
  const holdLookups = () => {
    let release!: () => void;
    held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      held = undefined;
      release();
    };
  };
  const hub: SecureHub = { fx, members, lookups: () => lookups, storeDown: false, holdLookups, identifier: listener.identifier, close: () => fx.close() };
  return hub;
}

export interface SecureDevice {
  identity: Ed25519Identity;
  /** Its identifier: the owner of its leases. */
  identifier: string;
  call(request: object): Promise<LeaseResponse>;
  /** Closes its channel and its node (so its connection), then opens new ones, to `port` (default: the same hub). */
  reconnect(port?: number, hubIdentifier?: string): Promise<void>;
  close(): Promise<void>;
}

const open = new Set<SecureDevice>();

/** A device node of `identity` with a secure channel to the hub listening on `port`. */
export async function secureDevice(port: number, hubIdentifier: string, identity = Ed25519Identity.generate()): Promise<SecureDevice> {
  let node: Node;
  let channel: SecureChannel;
  const connect = async (toPort: number, trusted: string) => {
    node = new Node({ name: 'device', logger: silentLogger });
    new WebSocketTransport(node);
    channel = await createSecureChannel(node, route(`3#127.0.0.1:${toPort}`, 'secure_channel'), { identity, trust: trustIdentifiers([trusted]) });
  };
  const close = async () => {
    channel.close();
    await node.stop({ timeout: 100 });
  };
  await connect(port, hubIdentifier);
  const device: SecureDevice = {
    identity,
    identifier: identity.identifier,
    async call(request) {
      const reply = await node.request([channel.address, local('token_lease')], JSON.stringify(request), { timeout: 10_000 });
      return JSON.parse(fromUtf8(reply.payload)) as LeaseResponse;
    },
    async reconnect(toPort = port, trusted = hubIdentifier) {
      await close();
      await connect(toPort, trusted);
    },
    async close() {
      open.delete(device);
      await close();
    },
  };
  open.add(device);
  return device;
}

/** Closes every device still open (afterEach). */
export async function closeDevices(): Promise<void> {
  await Promise.all([...open].map((d) => d.close()));
}
