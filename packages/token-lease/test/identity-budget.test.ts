// A secure hub's per-identity request budget (TokenLeaseWorker `identityRequestRate`):
// a flooding identity is refused before its membership is looked up, others are not,
// its budget refills with time, and the budgets kept are bounded (fake clock).
import { expect } from 'chai';
import { IDENTITY_OVER_BUDGET, IdentityRequestBudget } from '@tessera/token-lease';
import { fakeClock } from './fixtures.js';
import { closeDevices, type SecureHub, secureDevice, type SecureDevice, startSecureHub } from './secure-hub.js';

const DEVICE = { attributes: { role: 'device' }, admin: false };
const OVER_BUDGET = { result: 'failure', code: 'quota_exceeded', message: `quota exceeded: ${IDENTITY_OVER_BUDGET}` };

describe('token_lease on a secure hub: a request budget per identity, taken before its membership lookup', function () {
  this.timeout(30_000);
  let hub: SecureHub;
  afterEach(async () => {
    await closeDevices();
    await hub?.close();
  });

  async function member(): Promise<SecureDevice> {
    const device = await secureDevice(hub.fx.port, hub.identifier);
    hub.members.set(device.identifier, DEVICE);
    return device;
  }

  it('answers an identity past its budget quota_exceeded with no lookup; another identity is served; the budget refills', async () => {
    const { clock, tick } = fakeClock();
    hub = await startSecureHub({ worker: { clock, identityRequestRate: 1, identityRequestBurst: 3 } });
    const [flooder, other] = [await member(), await member()];
    for (let i = 0; i < 3; i++) expect((await flooder.call({ action: 'list' })).result, `request ${i} of the burst`).to.equal('success');
    const before = hub.lookups();
    for (let i = 0; i < 5; i++) expect(await flooder.call({ action: 'create', request_id: `f${i}` })).to.deep.equal({ ...OVER_BUDGET, request_id: `f${i}` });
    expect(hub.lookups(), 'no lookup for a request past the budget').to.equal(before);
    expect(hub.fx.service.stats().created).to.equal(0);

    expect((await other.call({ action: 'list' })).result, 'another identity is unaffected').to.equal('success');

    tick(999);
    expect(await flooder.call({ action: 'list' })).to.deep.include({ code: 'quota_exceeded' });
    tick(1);
    expect((await flooder.call({ action: 'list' })).result, 'one more request a second later').to.equal('success');
    expect(await flooder.call({ action: 'list' })).to.deep.include({ code: 'quota_exceeded' });
  });

  it('keeps at most identityBudgets budgets: the least recently seen is forgotten and starts again with a full bucket', async () => {
    const { clock } = fakeClock();
    hub = await startSecureHub({ worker: { clock, identityRequestRate: 1, identityRequestBurst: 1, identityBudgets: 2 } });
    const [a, b, c] = [await member(), await member(), await member()];
    expect((await a.call({ action: 'list' })).result).to.equal('success');
    expect(await a.call({ action: 'list' })).to.deep.include({ code: 'quota_exceeded' });
    expect((await b.call({ action: 'list' })).result).to.equal('success');
    expect(await a.call({ action: 'list' }), 'a and b fit: a is still remembered').to.deep.include({ code: 'quota_exceeded' });
    expect(await b.call({ action: 'list' }), 'b is out too').to.deep.include({ code: 'quota_exceeded' });
    expect((await c.call({ action: 'list' })).result).to.equal('success');
    // c pushed out the least recent (a); b was seen last before c and is kept
    expect((await a.call({ action: 'list' })).result, 'a forgotten: a full bucket').to.equal('success');
    expect(await c.call({ action: 'list' }), 'c kept, its bucket empty').to.deep.include({ code: 'quota_exceeded' });
  });

  it('when full, forgets a refilled bucket before an empty one: throwaway identities cannot reset a flooder’s budget', () => {
    const { clock, tick } = fakeClock();
    const budget = new IdentityRequestBudget(10, 2, clock, 2);
    expect([budget.take('flooder'), budget.take('flooder'), budget.take('flooder')]).to.deep.equal([true, true, false]);
    expect(budget.take('throwaway-1')).to.equal(true);
    tick(100); // throwaway-1 is full again (2 of 2); the flooder has 1 of 2
    expect(budget.take('throwaway-2'), 'one identity too many: one is forgotten').to.equal(true);
    expect(budget.size).to.equal(2);
    // the flooder, least recent, was kept: its one token, then nothing (forgotten, it would have had 2)
    expect([budget.take('flooder'), budget.take('flooder')]).to.deep.equal([true, false]);
  });

  it('with identityRequestRate 0 there is no budget (past the default burst of 200 at one instant)', async () => {
    const { clock } = fakeClock();
    hub = await startSecureHub({ worker: { clock, identityRequestRate: 0 } });
    const device = await member();
    for (let i = 0; i < 210; i++) expect((await device.call({ action: 'list' })).result, `request ${i}`).to.equal('success');
  });
});
