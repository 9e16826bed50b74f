import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { echoWorker, fromUtf8, route } from '@tessera/core';
import { makeNode, type TestNode } from './helpers.js';
import { frame, nextMessage, open } from './raw-client.js';

describe('forged replies (docs/protocol.md §2 rule 3)', () => {
  const started: TestNode[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.node.stop({ timeout: 100 })));
  });

  it('a peer spraying guessed reply addresses at a node that listens and makes requests never answers one of them', async () => {
    const REQUESTS = 40;
    // b answers each request only when the test lets it, so all of a's requests wait while the spray arrives
    const b = makeNode('b');
    started.push(b);
    const held: (() => void)[] = [];
    let allHeld!: () => void;
    const heldAll = new Promise<void>((resolve) => (allHeld = resolve));
    await b.node.startWorker('slow', (ctx, msg) => {
      held.push(() => ctx.reply(msg, `real ${fromUtf8(msg.payload)}`));
      if (held.length === REQUESTS) allHeld();
    });
    const lb = await b.transport.listen();
    // a listens (the hostile peer's way in) and makes requests to b
    const a = makeNode('a');
    started.push(a);
    await a.node.startWorker('echo', echoWorker);
    const la = await a.transport.listen();
    const toB = route(`3#127.0.0.1:${lb.port}`, 'slow');
    const requests = [...Array(REQUESTS).keys()].map((i) => a.node.request(toB, `${i}`, { timeout: 60_000 }));
    await heldAll;

    const hostile = await open(la.url);
    let sprayed = 0;
    for (let n = 0; n <= 60; n++, sprayed++) hostile.send(frame([[0, `_request.${n}`]], [], 'forged'));
    for (let i = 0; i < 2_000; i++, sprayed++) hostile.send(frame([[0, `_request.${randomBytes(8).toString('hex')}`]], [], 'forged'));
    // frames on one connection are routed in order: once this echo comes back, the whole spray has been routed
    hostile.send(frame([[0, 'echo']], [[0, 'me']], 'sync'));
    await nextMessage(hostile);

    for (const release of held) release();
    const replies = await Promise.all(requests);
    expect(replies.map((r) => fromUtf8(r.payload))).to.deep.equal([...Array(REQUESTS).keys()].map((i) => `real ${i}`));
    expect(a.node.stats().dropped['unknown_address']).to.equal(sprayed);
    hostile.close();
  });
});
