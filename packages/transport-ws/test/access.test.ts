import { expect } from 'chai';
import { unpack } from 'msgpackr';
import { echoWorker, local, WS } from '@tessera/core';
import { waitUntil } from '@tessera/testing';
import { makeNode, type TestNode } from './helpers.js';
import { frame, nextMessage, open } from './raw-client.js';

/** The payload of a received transport message, as text. */
const text = (bytes: Buffer) => Buffer.from((unpack(bytes) as unknown[])[3] as Uint8Array).toString();

describe('a connection\'s LOCAL address', () => {
  const started: TestNode[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.node.stop({ timeout: 100 })));
  });

  /** A hub, and two raw peers on it: the victim's connection name is known to the attacker. */
  async function twoPeers(forwarding: boolean) {
    const hub = makeNode('hub', { forwarding });
    started.push(hub);
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const victim = await open(listener.url);
    await waitUntil('the hub to hold the victim\'s connection', () => hub.transport.connections().length === 1);
    const victimName = hub.transport.connections()[0]!.name;
    const attacker = await open(listener.url);
    return { hub, victim, victimName, attacker };
  }

  it('with forwarding off, refuses a peer\'s message for another peer\'s connection (access_denied), and serves both on', async () => {
    const { hub, victim, victimName, attacker } = await twoPeers(false);
    attacker.send(frame([[0, victimName], [0, 'app']], [[0, 'me']], 'relayed'));
    attacker.send(frame([[0, 'echo']], [[0, 'me']], 'attacker'));
    expect(text(await nextMessage(attacker))).to.equal('attacker');
    expect(hub.node.stats().dropped['access_denied']).to.equal(1);
    // what the victim gets first is the answer to its own request, nothing relayed
    victim.send(frame([[0, 'echo']], [[0, 'me']], 'victim'));
    expect(text(await nextMessage(victim))).to.equal('victim');
    victim.close();
    attacker.close();
  });

  it('with forwarding off, refuses what a secure channel delivered (it carries a peer identity) for a connection or a WS address', async () => {
    const { hub, victim, victimName, attacker } = await twoPeers(false);
    const fromChannel = { identity: `I${'ab'.repeat(32)}` };
    const payload = Buffer.from('relayed');
    expect(hub.node.route({ onward: [local(victimName), local('app')], return: [], payload, local: fromChannel })).to.equal('access_denied');
    expect(hub.node.route({ onward: [{ type: WS, value: '127.0.0.1:9' }, local('app')], return: [], payload, local: fromChannel })).to.equal('sent');
    expect(hub.node.stats().dropped['forwarding_refused']).to.equal(1);
    // the hub's own messages still reach the victim
    const got = nextMessage(victim);
    hub.node.send([local(victimName), local('app')], 'from the hub');
    expect(text(await got)).to.equal('from the hub');
    victim.close();
    attacker.close();
  });

  it('with forwarding on, lets one peer reach another through its connection', async () => {
    const { victim, victimName, attacker } = await twoPeers(true);
    const got = nextMessage(victim);
    attacker.send(frame([[0, victimName], [0, 'app']], [[0, 'me']], 'relayed'));
    const bytes = await got;
    expect(text(bytes)).to.equal('relayed');
    expect((unpack(bytes) as unknown[])[1]).to.deep.equal([[0, 'app']]);
    victim.close();
    attacker.close();
  });
});
