// startConsole on a port another program holds: it fails with EADDRINUSE (the
// demo then starts its console on another port) and leaves nothing of itself
// behind, the event streams' heartbeat interval included (on a fake clock,
// which counts the timers still set).
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { silentLogger } from '@tessera/core';
import { Ed25519Identity } from '@tessera/secure-channel';
import { startConsole } from '../src/start-console.js';

describe('startConsole on a port that is taken', () => {
  let taken: Server;
  let clock: FakeTimers.Clock | undefined;

  beforeEach(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  });
  afterEach(async () => {
    clock?.uninstall();
    clock = undefined;
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  });

  it('fails with EADDRINUSE and leaves no timer set', async () => {
    const port = (taken.address() as AddressInfo).port;
    // only intervals are faked: the failed start's clean-up awaits real I/O and real timeouts
    clock = FakeTimers.install({ toFake: ['setInterval', 'clearInterval'] });
    const failure = await startConsole({ hub: 'ws://127.0.0.1:1', identity: Ed25519Identity.generate(), port, logger: silentLogger }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((failure as { code?: unknown } | undefined)?.code).to.equal('EADDRINUSE');
    expect(clock.countTimers(), 'intervals still set after the failed start').to.equal(0);
  });
});
