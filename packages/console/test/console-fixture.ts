// A secure hub in this process, an admin identity, devices that enroll and
// lease through their own secure channels, and a console on a free loopback
// port: what the console's tests share.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, local, Node, route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, trustIdentifiers } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { HubConfigSchema } from '../../cli/src/hub/hub-config.js';
import { type Hub, startHub } from '../../cli/src/hub/start-hub.js';
import { type RunningConsole, startConsole } from '../src/start-console.js';

export interface Answer {
  result: 'success' | 'failure';
  code?: string;
  lease?: { id: string; value: string; expires: string };
  token?: string;
}

/** A device: its own node and channel to the hub; `ask` sends JSON to a hub worker through it. */
export interface TestDevice {
  identity: Ed25519Identity;
  ask(worker: string, body: object): Promise<Answer>;
  stop(): Promise<void>;
}

export interface ConsoleFixture {
  hub: Hub;
  admin: Ed25519Identity;
  console: RunningConsole;
  /** A device enrolled with a token the hub's authority makes now. */
  device(attributes?: Record<string, string>): Promise<TestDevice>;
  /** A device that enrolls with `token`. */
  enrollWith(token: string): Promise<TestDevice>;
  stop(): Promise<void>;
}

export async function startConsoleFixture(): Promise<ConsoleFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-console-'));
  const admin = Ed25519Identity.generate();
  const hub = await startHub(
    HubConfigSchema.parse({ listen: '127.0.0.1:0', identity: join(dir, 'hub.json'), logLevel: 'silent', admin: [admin.identifier], defaultTtl: 60_000, minTtl: 1_000, maxTtl: 600_000 }),
    silentLogger,
  );
  const running = await startConsole({ hub: hub.listener.url, identity: admin, hubIdentifier: hub.secure!.identifier, port: 0, logger: silentLogger });
  const devices: TestDevice[] = [];
  const connect = async (identity: Ed25519Identity): Promise<TestDevice> => {
    const node = new Node({ logger: silentLogger });
    new WebSocketTransport(node);
    const channel = await createSecureChannel(node, route(`3#127.0.0.1:${hub.listener.port}`, 'secure_channel'), { identity, trust: trustIdentifiers([hub.secure!.identifier]) });
    const device: TestDevice = {
      identity,
      ask: async (worker, body) => JSON.parse(fromUtf8((await node.request([channel.address, local(worker)], JSON.stringify(body))).payload)) as Answer,
      stop: () => node.stop({ timeout: 100 }),
    };
    devices.push(device);
    return device;
  };
  const enrollWith = async (token: string) => {
    const device = await connect(Ed25519Identity.generate());
    const enrolled = await device.ask('authority', { action: 'enroll', token });
    if (enrolled.result !== 'success') throw new Error(`enrollment refused: ${enrolled.code}`);
    return device;
  };
  return {
    hub,
    admin,
    console: running,
    enrollWith,
    async device(attributes = { role: 'device' }) {
      const made = await hub.secure!.authority.createToken({ attributes });
      return enrollWith(made.token);
    },
    async stop() {
      await running.stop();
      for (const d of devices) await d.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in with the console's current link; resolves with the session cookie (`name=value`). */
export async function logIn(console: RunningConsole): Promise<string> {
  const res = await fetch(console.loginUrl, { redirect: 'manual' });
  const cookie = res.headers.get('set-cookie');
  if (res.status !== 303 || cookie === null) throw new Error(`login refused: ${res.status}`);
  return cookie.split(';')[0]!;
}

/** Reads server-sent events from a response until `until` says stop; resolves with all of them. */
export async function readEvents(res: Response, until: (events: { event: string; data: unknown }[]) => boolean): Promise<{ event: string; data: unknown }[]> {
  const reader = res.body!.getReader();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}
