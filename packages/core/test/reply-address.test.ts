import { expect } from 'chai';
import { fromUtf8, Node, silentLogger } from '@tessera/core';

describe('reply addresses (docs/protocol.md §2 rule 3)', () => {
  let node: Node;
  beforeEach(() => {
    node = new Node({ logger: silentLogger });
  });
  afterEach(() => node.stop({ timeout: 100 }));

  it('are 64 random bits, never a counter, so a guess at _request.N reaches nothing', async () => {
    const returns: string[] = [];
    let forgedDelivered = 0;
    await node.startWorker('forger', (ctx, msg) => {
      returns.push(msg.return[0]!.value);
      // a worker that tries to answer requests it never received
      for (let n = 0; n <= 200; n++) if (node.send(`_request.${n}`, 'forged') === 'delivered') forgedDelivered++;
      ctx.reply(msg, 'real');
    });
    const replies = await Promise.all([...Array(20).keys()].map(() => node.request('forger', 'x')));
    expect(replies.map((r) => fromUtf8(r.payload))).to.deep.equal(Array(20).fill('real'));
    expect(forgedDelivered).to.equal(0);
    for (const r of returns) expect(r).to.match(/^_request\.[0-9a-f]{16}$/);
    expect(new Set(returns).size).to.equal(20);
  });

  it('take one reply, then are gone', async () => {
    let second: string | undefined;
    await node.startWorker('twice', (ctx, msg) => {
      ctx.reply(msg, 'first');
      second = node.send(msg.return, 'second');
    });
    const reply = await node.request('twice', 'x');
    expect(fromUtf8(reply.payload)).to.equal('first');
    expect(second).to.equal('unknown_address');
    expect(node.workerAddresses()).to.deep.equal(['twice']);
  });
});
