import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import {
  type Context,
  echoWorker,
  fromUtf8,
  IncomingAccess,
  MailboxFullError,
  type Message,
  NoTransportError,
  Node,
  silentLogger,
  TimeoutError,
  UnknownAddressError,
} from '@tessera/core';

/** Resolves after the microtask and timer queues have run `rounds` times. */
function settle(rounds = 5): Promise<void> {
  return new Promise((resolve) => {
    let left = rounds;
    const step = () => (--left <= 0 ? resolve() : setImmediate(step));
    setImmediate(step);
  });
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('local routing', () => {
  let node: Node;
  beforeEach(() => {
    node = new Node({ logger: silentLogger });
  });
  afterEach(async () => {
    await node.stop({ timeout: 100 });
  });

  it('delivers to one worker in order, one message at a time, even when the handler awaits', async () => {
    const seen: number[] = [];
    let inside = 0;
    let maxInside = 0;
    const done = deferred();
    await node.startWorker('sink', async (_ctx, msg) => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setImmediate(r));
      seen.push(msg.payload[0]!);
      inside--;
      if (seen.length === 100) done.resolve();
    });
    for (let i = 0; i < 100; i++) node.send('sink', new Uint8Array([i]));
    await done.promise;
    expect(seen).to.deep.equal([...Array(100).keys()]);
    expect(maxInside).to.equal(1);
  });

  it('answers a request through the echo worker', async () => {
    await node.startWorker('echo', echoWorker);
    const reply = await node.request('echo', 'hello');
    expect(fromUtf8(reply.payload)).to.equal('hello');
    expect(reply.return.map((a) => a.value)).to.deep.equal(['echo']);
  });

  it('lets a worker request from another worker and reply with the result', async () => {
    await node.startWorker('echo', echoWorker);
    await node.startWorker('upper', async (ctx: Context, msg: Message) => {
      const r = await ctx.request('echo', fromUtf8(msg.payload).toUpperCase());
      ctx.reply(msg, r.payload);
    });
    expect(fromUtf8((await node.request('upper', 'abc')).payload)).to.equal('ABC');
  });

  it('forwards as a hop: pops itself, pushes itself onto return', async () => {
    await node.startWorker('echo', echoWorker);
    await node.startWorker('hop', (ctx, msg) => ctx.forward(msg));
    const reply = await node.request(['hop', 'echo'].map((n) => ({ type: 0, value: n })), 'x');
    expect(fromUtf8(reply.payload)).to.equal('x');
    // the echo replied along [hop, _request.<64 random bits>]; hop forwarded it back to the requester
    expect(reply.return.map((a) => a.value)).to.deep.equal(['hop', 'echo']);
  });

  it('fails a request to an unknown address at once and counts the drop', async () => {
    const err = await node.request('nobody', 'x').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownAddressError);
    expect(node.stats().dropped['unknown_address']).to.equal(1);
  });

  it('fails a request for an address type without transport', async () => {
    const err = await node.request('3#127.0.0.1:1', 'x').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoTransportError);
    expect(node.stats().dropped['no_transport']).to.equal(1);
  });

  it('times out a request nobody answers (fake clock)', async () => {
    const fake = FakeTimers.createClock();
    const clock = { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout };
    const timed = new Node({ logger: silentLogger, clock });
    await timed.startWorker('mute', () => undefined);
    const pending = timed.request('mute', 'x', { timeout: 1_000 }).catch((e: unknown) => e);
    fake.tick(999);
    expect(timed.stats().pendingRequests).to.equal(1);
    fake.tick(1);
    expect(await pending).to.be.instanceOf(TimeoutError);
    expect(timed.stats().pendingRequests).to.equal(0);
    await timed.stop({ timeout: 0 });
  });

  it('drop-newest: a full mailbox refuses the arriving message, and a request for it fails at once', async () => {
    const gate = deferred();
    const seen: number[] = [];
    await node.startWorker('slow', async (_ctx, msg) => {
      await gate.promise;
      seen.push(msg.payload[0]!);
    }, { mailboxCapacity: 2 });
    node.send('slow', new Uint8Array([0]));
    await settle();
    node.send('slow', new Uint8Array([1]));
    node.send('slow', new Uint8Array([2]));
    // 0 is in the handler, 1 and 2 wait; 3 and 4 find the mailbox full
    node.send('slow', new Uint8Array([3]));
    const err = await node.request('slow', new Uint8Array([4])).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MailboxFullError);
    gate.resolve();
    await settle();
    expect(seen).to.deep.equal([0, 1, 2]);
    expect(node.stats().dropped['mailbox_full']).to.equal(2);
  });

  it('tells onLocalDrop listeners where and why a message was dropped at a LOCAL address, until they stop', async () => {
    const seen: string[] = [];
    const stop = node.router.onLocalDrop((name, reason) => seen.push(`${name}:${reason}`));
    node.router.onLocalDrop(() => {
      throw new Error('a listener with a bug');
    });
    const gate = deferred();
    await node.startWorker('full', () => gate.promise, { mailboxCapacity: 1 });
    await node.startWorker('peers-only', echoWorker, { incoming: IncomingAccess.fromPeers });
    node.send('full', 'a');
    await settle();
    node.send('full', 'b'); // waits
    node.send('full', 'c'); // the mailbox is full
    node.send('peers-only', 'from a local sender');
    node.send('nobody', 'x');
    stop();
    node.send('nobody', 'y');
    gate.resolve();
    expect(seen).to.deep.equal(['full:mailbox_full', 'peers-only:access_denied', 'nobody:unknown_address']);
    expect(node.stats().dropped).to.include({ mailbox_full: 1, access_denied: 1, unknown_address: 2 });
  });

  it('drop-oldest: a full mailbox drops the oldest waiting message', async () => {
    const gate = deferred();
    const seen: number[] = [];
    await node.startWorker('slow', async (_ctx, msg) => {
      await gate.promise;
      seen.push(msg.payload[0]!);
    }, { mailboxCapacity: 2, mailboxPolicy: 'drop-oldest' });
    node.send('slow', new Uint8Array([0]));
    await settle();
    for (let i = 1; i <= 4; i++) node.send('slow', new Uint8Array([i]));
    gate.resolve();
    await settle();
    expect(seen).to.deep.equal([0, 3, 4]);
    expect(node.stats().dropped['mailbox_full']).to.equal(2);
  });

  it('survives a handler that throws or rejects: logged, counted, next message handled', async () => {
    const errors: object[] = [];
    const logger = { ...silentLogger, error: (fields: object) => errors.push(fields), child: () => logger };
    const n = new Node({ logger });
    let handled = 0;
    const done = deferred();
    await n.startWorker('flaky', async (_ctx, msg) => {
      handled++;
      if (msg.payload[0] === 0) throw new Error('sync-ish failure');
      if (msg.payload[0] === 1) await Promise.reject(new Error('async failure'));
      done.resolve();
    });
    n.send('flaky', new Uint8Array([0]));
    n.send('flaky', new Uint8Array([1]));
    n.send('flaky', new Uint8Array([2]));
    await done.promise;
    expect(handled).to.equal(3);
    expect(n.stats().handlerErrors).to.equal(2);
    expect(errors).to.have.length(2);
    await n.stop();
  });

  it('refuses a second worker at the same address', async () => {
    await node.startWorker('a', echoWorker);
    const err = await node.startWorker('a', echoWorker).catch((e: unknown) => e);
    expect((err as Error).name).to.equal('AddressInUseError');
  });

  it('runs initialize before the first message and shutdown after the drain', async () => {
    const events: string[] = [];
    const n = new Node({ logger: silentLogger });
    await n.startWorker('w', {
      initialize: () => void events.push('init'),
      handleMessage: async () => {
        await new Promise((r) => setImmediate(r));
        events.push('msg');
      },
      shutdown: () => void events.push('shutdown'),
    });
    n.send('w', 'a');
    n.send('w', 'b');
    await n.stop();
    expect(events).to.deep.equal(['init', 'msg', 'msg', 'shutdown']);
    expect(n.state).to.equal('stopped');
  });

  it('fails pending requests with ClosedError when the node stops', async () => {
    const n = new Node({ logger: silentLogger });
    await n.startWorker('mute', () => undefined);
    const pending = n.request('mute', 'x', { timeout: 60_000 }).catch((e: unknown) => e);
    await n.stop();
    expect((await pending as Error).name).to.equal('ClosedError');
  });
});
