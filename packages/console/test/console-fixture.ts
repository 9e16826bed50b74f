// A secure hub in this process, an admin identity, devices that enroll and
// lease through their own secure channels, and a console on a free loopback
// port: what the console's tests share.
import { silentLogger } from '@tessera/core';
import { Ed25519Identity } from '@tessera/secure-channel';
import type { HubConfigInput } from '../../cli/src/hub/hub-config.js';
import type { Hub } from '../../cli/src/hub/start-hub.js';
import { SecureHubFixture, type SecurePeer } from '../../cli/test/secure-hub-fixture.js';
import { type RunningConsole, startConsole } from '../src/start-console.js';

/** A device: its own node and channel to the hub; `ask` sends JSON to a hub worker through it. */
export type TestDevice = SecurePeer;

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

/** The fixture; `config` adds to or overrides the hub's settings. */
export async function startConsoleFixture(config: HubConfigInput = {}): Promise<ConsoleFixture> {
  const fx = new SecureHubFixture('console');
  const admin = Ed25519Identity.generate();
  const hub = await fx.hub({ admin: [admin.identifier], defaultTtl: 60_000, minTtl: 1_000, maxTtl: 600_000, ...config });
  const running = fx.track(await startConsole({ hub: hub.listener.url, identity: admin, hubIdentifier: hub.secure!.identifier, port: 0, logger: silentLogger }));
  const enrollWith = async (token: string) => {
    const device = await fx.peer(hub);
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
    stop: () => fx.stop(),
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
