import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { LeaseRecordSchema, type LeaseRecord, type StorageNamespace, type StorageService } from '@tessera/token-lease';
import { waitUntil } from './wait.js';

/** What an implementation hands the StorageService compliance suite. */
export interface StorageServiceSuiteSetup {
  /** A new, not yet initialised storage; the suite calls init() and close() on it. */
  create(): StorageService | Promise<StorageService>;
  /**
   * True when storages from one setup share their backing store (several hubs on
   * one Redis): the suite then also checks visibility and claims across instances.
   */
  shared: boolean;
  /** How many leases the bulk test stores (default 5000). */
  bulk?: number;
  teardown?(): Promise<void>;
}

/** Midnight 2030-01-01 UTC: every test passes times explicitly, nothing waits on a real clock. */
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;

/** A valid lease record expiring at `expires` (ms since epoch), with overrides. */
export function leaseRecord(id: string, expires: number, overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  const ttl = 10 * MINUTE;
  return {
    id,
    value: `token-value-${id}`,
    ttl,
    tags: ['suite', `lease:${id}`],
    renewable: true,
    issued: new Date(expires - ttl).toISOString(),
    expires: new Date(expires).toISOString(),
    owner: 'device-1',
    maxExpires: new Date(expires + 60 * MINUTE).toISOString(),
    ...overrides,
  };
}

const at = (ms: number): Date => new Date(ms);
const ids = (records: LeaseRecord[]): string[] => records.map((r) => r.id);
const sorted = (values: string[]): string[] => [...values].sort();

/**
 * The StorageService compliance suite: every implementation runs it with its own setup,
 * e.g. `storageServiceSuite('memory', async () => ({ create: () => memoryStorage(), shared: false }))`.
 * `setup` gets mocha's context so it may `this.skip()` when its backing store is missing.
 */
export function storageServiceSuite(name: string, setup: (ctx: Mocha.Context) => Promise<StorageServiceSuiteSetup>): void {
  describe(`StorageService compliance: ${name}`, function () {
    this.timeout(60_000);
    let ctx: StorageServiceSuiteSetup | undefined;
    let opened: StorageService[] = [];
    let namespace: StorageNamespace;

    /** A storage initialised in this test's namespace (or another one). */
    const open = async (ns: StorageNamespace = namespace): Promise<StorageService> => {
      if (ctx === undefined) throw new Error('setup did not run');
      const storage = await ctx.create();
      opened.push(storage);
      await storage.init(ns);
      return storage;
    };
    const expectValid = (records: LeaseRecord[]): void => {
      for (const record of records) expect(() => LeaseRecordSchema.parse(record), `record ${record.id}`).not.to.throw();
    };

    before(async function () {
      ctx = await setup(this);
    });
    after(async () => {
      await ctx?.teardown?.();
    });
    beforeEach(() => {
      // A fresh namespace per test keeps tests apart on a shared backing store.
      namespace = { cloudService: 'suite-cloud', cloudServiceAddress: `http://127.0.0.1:8086 test=${randomUUID()}` };
    });
    afterEach(async () => {
      const closing = opened;
      opened = [];
      await Promise.all(closing.map((s) => s.close()));
    });

    it('has a module name', async () => {
      const storage = await open();
      expect(storage.name).to.be.a('string').with.length.above(0);
    });

    it('saves and gets a lease record unchanged', async () => {
      const storage = await open();
      const record = leaseRecord('a1', T0 + MINUTE);
      const revoking = leaseRecord('a2', T0 + 2 * MINUTE, {
        tags: [],
        renewable: false,
        value: 'v/with "quotes" and ünïcode\n',
        revocation: { attempts: 2, lastError: 'cloud said 503', nextAttempt: at(T0 + 3 * MINUTE).toISOString() },
      });
      await storage.save(record);
      await storage.save(revoking);
      const got = await storage.get('a1');
      expect(got).to.deep.equal(record);
      expect(await storage.get('a2')).to.deep.equal(revoking);
      expectValid([got!]);
      expect(await storage.get('missing')).to.equal(undefined);
    });

    it('hands out copies: changing a returned record does not change the stored one', async () => {
      const storage = await open();
      const record = leaseRecord('c1', T0);
      await storage.save(record);
      record.tags.push('changed after save');
      const got = (await storage.get('c1'))!;
      expect(got.tags).to.deep.equal(['suite', 'lease:c1']);
      got.tags.push('changed after get');
      (await storage.getAll())[0]!.tags.push('changed after getAll');
      expect((await storage.get('c1'))!.tags).to.deep.equal(['suite', 'lease:c1']);
    });

    it('replaces a lease saved again under the same id', async () => {
      const storage = await open();
      await storage.save(leaseRecord('r1', T0 + MINUTE));
      const renewed = leaseRecord('r1', T0 + 5 * MINUTE, { ttl: 1234 });
      await storage.save(renewed);
      expect(await storage.count()).to.equal(1);
      expect(await storage.get('r1')).to.deep.equal(renewed);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 5 * MINUTE));
    });

    it('rejects invalid records and stores nothing', async () => {
      const storage = await open();
      const bad: unknown[] = [
        { ...leaseRecord('x1', T0), id: '' },
        { ...leaseRecord('x2', T0), ttl: -1 },
        { ...leaseRecord('x3', T0), expires: 'not a date' },
        { ...leaseRecord('x4', T0), owner: undefined },
        { ...leaseRecord('x5', T0), revocation: { attempts: 1 } },
      ];
      for (const record of bad) {
        let failed = false;
        try {
          await storage.save(record as LeaseRecord);
        } catch {
          failed = true;
        }
        expect(failed, JSON.stringify(record)).to.equal(true);
      }
      expect(await storage.count()).to.equal(0);
      expect(await storage.nextDue()).to.equal(undefined);
    });

    it('removes a lease, saying whether it was there', async () => {
      const storage = await open();
      await storage.save(leaseRecord('d1', T0));
      await storage.save(leaseRecord('d2', T0 + MINUTE));
      expect(await storage.remove('d1')).to.equal(true);
      expect(await storage.remove('d1')).to.equal(false);
      expect(await storage.remove('never')).to.equal(false);
      expect(await storage.get('d1')).to.equal(undefined);
      expect(await storage.count()).to.equal(1);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + MINUTE));
      expect(ids(await storage.claimDue(at(T0 + 10 * MINUTE), 10, MINUTE))).to.deep.equal(['d2']);
    });

    it('lists every lease with getAll and counts them', async () => {
      const storage = await open();
      expect(await storage.getAll()).to.deep.equal([]);
      expect(await storage.count()).to.equal(0);
      const records = [0, 1, 2, 3, 4].map((i) => leaseRecord(`g${i}`, T0 + (5 - i) * MINUTE));
      for (const record of records) await storage.save(record);
      const all = await storage.getAll();
      expectValid(all);
      expect(sorted(ids(all))).to.deep.equal(['g0', 'g1', 'g2', 'g3', 'g4']);
      for (const record of records) expect(all.find((r) => r.id === record.id)).to.deep.equal(record);
      expect(await storage.count()).to.equal(5);
    });

    it('keeps namespaces apart', async () => {
      const a = await open();
      const otherService = await open({ ...namespace, cloudService: 'other-cloud' });
      const otherAddress = await open({ ...namespace, cloudServiceAddress: `${namespace.cloudServiceAddress} other` });
      await a.save(leaseRecord('n1', T0));
      await otherService.save(leaseRecord('n1', T0 + MINUTE, { owner: 'someone else' }));
      for (const other of [otherService, otherAddress]) {
        expect(await other.get('n2')).to.equal(undefined);
      }
      await a.save(leaseRecord('n2', T0));
      expect(await otherService.get('n2')).to.equal(undefined);
      expect(await otherAddress.get('n1')).to.equal(undefined);
      expect(await otherAddress.getAll()).to.deep.equal([]);
      expect(await otherAddress.count()).to.equal(0);
      expect(await otherAddress.nextDue()).to.equal(undefined);
      expect(await otherAddress.claimDue(at(T0 + 60 * MINUTE), 100, MINUTE)).to.deep.equal([]);
      expect((await otherService.get('n1'))!.owner).to.equal('someone else');
      expect(await otherService.count()).to.equal(1);
      expect(await otherAddress.remove('n1')).to.equal(false);
      expect(await a.count()).to.equal(2);
      expect(sorted(ids(await a.claimDue(at(T0 + 60 * MINUTE), 100, MINUTE)))).to.deep.equal(['n1', 'n2']);
      expect(ids(await otherService.claimDue(at(T0 + 60 * MINUTE), 100, MINUTE))).to.deep.equal(['n1']);
    });

    it('reports the earliest due time with nextDue', async () => {
      const storage = await open();
      expect(await storage.nextDue()).to.equal(undefined);
      await storage.save(leaseRecord('e1', T0 + 3 * MINUTE));
      await storage.save(leaseRecord('e2', T0 + MINUTE));
      await storage.save(leaseRecord('e3', T0 + 2 * MINUTE));
      expect(await storage.nextDue()).to.deep.equal(at(T0 + MINUTE));
      await storage.remove('e2');
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 2 * MINUTE));
      await storage.claimDue(at(T0 + 2 * MINUTE), 10, 5 * MINUTE);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 3 * MINUTE));
      await storage.remove('e1');
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 7 * MINUTE));
    });

    it('claims only due leases, earliest first, at most `limit`', async () => {
      const storage = await open();
      for (let i = 0; i < 10; i++) await storage.save(leaseRecord(`q${i}`, T0 + i * MINUTE));
      expect(await storage.claimDue(at(T0 - 1), 10, MINUTE)).to.deep.equal([]);
      expect(await storage.claimDue(at(T0 + 9 * MINUTE), 0, MINUTE)).to.deep.equal([]);
      const first = await storage.claimDue(at(T0 + 4 * MINUTE), 3, MINUTE);
      expectValid(first);
      expect(ids(first)).to.deep.equal(['q0', 'q1', 'q2']);
      expect(first[0]).to.deep.equal(leaseRecord('q0', T0));
      // Due "at or before now": q4 is due exactly at now.
      expect(ids(await storage.claimDue(at(T0 + 4 * MINUTE), 10, MINUTE))).to.deep.equal(['q3', 'q4']);
      expect(await storage.claimDue(at(T0 + 4 * MINUTE), 10, MINUTE)).to.deep.equal([]);
      expect(await storage.count()).to.equal(10);
    });

    it('does not hand out a claimed lease again until the claim lapses', async () => {
      const storage = await open();
      await storage.save(leaseRecord('k1', T0));
      await storage.save(leaseRecord('k2', T0 + 90_000));
      const now = T0 + MINUTE;
      expect(ids(await storage.claimDue(at(now), 10, 2 * MINUTE))).to.deep.equal(['k1']);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 90_000));
      expect(ids(await storage.claimDue(at(now + 2 * MINUTE - 1), 10, 2 * MINUTE))).to.deep.equal(['k2']);
      expect(await storage.nextDue()).to.deep.equal(at(now + 2 * MINUTE));
      expect(await storage.claimDue(at(now + 2 * MINUTE - 1), 10, 2 * MINUTE)).to.deep.equal([]);
      // Lapsed: k1 comes back (k2 was claimed later and is still held).
      expect(ids(await storage.claimDue(at(now + 2 * MINUTE), 10, 2 * MINUTE))).to.deep.equal(['k1']);
      // The claim changed when it is due, not the lease itself.
      expect(await storage.get('k1')).to.deep.equal(leaseRecord('k1', T0));
    });

    it('reschedules a failed revocation: records it and moves the due time', async () => {
      const storage = await open();
      await storage.save(leaseRecord('s1', T0));
      await storage.save(leaseRecord('s2', T0 + 10 * MINUTE));
      const [claimed] = await storage.claimDue(at(T0), 1, MINUTE);
      expect(claimed?.id).to.equal('s1');
      const revocation = { attempts: 1, lastError: 'cloud unavailable: 503', nextAttempt: at(T0 + 20 * MINUTE).toISOString() };
      await storage.reschedule('s1', revocation);
      expect((await storage.get('s1'))!.revocation).to.deep.equal(revocation);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 10 * MINUTE));
      // Past the claim but before the next attempt: only s2.
      expect(ids(await storage.claimDue(at(T0 + 19 * MINUTE), 10, MINUTE))).to.deep.equal(['s2']);
      await storage.remove('s2');
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 20 * MINUTE));
      const again = await storage.claimDue(at(T0 + 20 * MINUTE), 10, MINUTE);
      expect(again).to.deep.equal([{ ...leaseRecord('s1', T0), revocation }]);
      const later = { attempts: 2, lastError: 'still 503', nextAttempt: at(T0 + 40 * MINUTE).toISOString() };
      await storage.reschedule('s1', later);
      expect((await storage.get('s1'))!.revocation).to.deep.equal(later);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 40 * MINUTE));
    });

    it('update replaces a lease that is there and moves its due time, but never brings one back or touches one being revoked', async () => {
      const storage = await open();
      expect(await storage.update(leaseRecord('u0', T0))).to.equal(false);
      expect(await storage.get('u0')).to.equal(undefined);
      expect(await storage.count()).to.equal(0);
      await storage.save(leaseRecord('u1', T0));
      expect(await storage.update(leaseRecord('u1', T0 + 30 * MINUTE))).to.equal(true);
      expect(await storage.get('u1')).to.deep.equal(leaseRecord('u1', T0 + 30 * MINUTE));
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 30 * MINUTE));
      await storage.reschedule('u1', { attempts: 1, lastError: 'x', nextAttempt: at(T0 + 40 * MINUTE).toISOString() });
      expect(await storage.update(leaseRecord('u1', T0 + 90 * MINUTE))).to.equal(false);
      expect((await storage.get('u1'))!.revocation?.attempts).to.equal(1);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 40 * MINUTE));
      await storage.remove('u1');
      expect(await storage.update(leaseRecord('u1', T0))).to.equal(false);
      expect(await storage.count()).to.equal(0);
    });

    it('reschedule of a lease that is gone does not bring it back', async () => {
      const storage = await open();
      await storage.reschedule('ghost', { attempts: 1, lastError: 'x', nextAttempt: at(T0).toISOString() });
      expect(await storage.get('ghost')).to.equal(undefined);
      expect(await storage.count()).to.equal(0);
      expect(await storage.nextDue()).to.equal(undefined);
      expect(await storage.claimDue(at(T0 + MINUTE), 10, MINUTE)).to.deep.equal([]);
    });

    it('a save after reschedule resets the due time to `expires`', async () => {
      const storage = await open();
      await storage.save(leaseRecord('z1', T0));
      await storage.reschedule('z1', { attempts: 3, lastError: 'boom', nextAttempt: at(T0 + 30 * MINUTE).toISOString() });
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 30 * MINUTE));
      const renewed = leaseRecord('z1', T0 + 5 * MINUTE);
      await storage.save(renewed);
      expect(await storage.get('z1')).to.deep.equal(renewed);
      expect(await storage.nextDue()).to.deep.equal(at(T0 + 5 * MINUTE));
      expect(ids(await storage.claimDue(at(T0 + 5 * MINUTE), 10, MINUTE))).to.deep.equal(['z1']);
    });

    it('never hands the same lease to two concurrent claimers', async function () {
      const shared = ctx?.shared === true;
      const storages = shared ? await Promise.all([open(), open(), open()]) : [await open()];
      const total = 300;
      const writer = storages[0]!;
      await Promise.all(Array.from({ length: total }, (_, i) => writer.save(leaseRecord(`p${i}`, T0 + (i % 7)))));
      const seen = new Map<string, number>();
      let round = 0;
      // Rounds of 12 parallel claims of 9 each until everything is claimed; with
      // claimMs far in the future nothing may come back.
      while (seen.size < total && round < 20) {
        round += 1;
        const batches = await Promise.all(
          Array.from({ length: 12 }, (_, i) => storages[i % storages.length]!.claimDue(at(T0 + MINUTE), 9, 60 * MINUTE)),
        );
        for (const batch of batches) {
          expect(batch.length).to.be.at.most(9);
          for (const record of batch) seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
        }
      }
      expect(seen.size).to.equal(total);
      expect([...seen.values()].every((n) => n === 1), 'a lease was claimed twice').to.equal(true);
      for (const storage of storages) expect(await storage.claimDue(at(T0 + MINUTE), 1000, MINUTE)).to.deep.equal([]);
    });

    it('claimLease claims one lease whatever its due time, and holds it against claimLease and claimDue until reschedule, remove or a lapse', async () => {
      const shared = ctx?.shared === true;
      const [a, b] = shared ? await Promise.all([open(), open()]) : [await open(), undefined];
      const other = b ?? a!;
      const first = a!;
      await first.save(leaseRecord('c1', T0 + 60 * MINUTE));
      expect(await first.claimLease('c1', at(T0), MINUTE)).to.deep.equal({ state: 'claimed', record: leaseRecord('c1', T0 + 60 * MINUTE) });
      expect(await other.claimLease('c1', at(T0 + MINUTE - 1), MINUTE)).to.deep.equal({ state: 'held' });
      expect(await first.nextDue()).to.deep.equal(at(T0 + MINUTE));
      expect(await other.claimDue(at(T0 + MINUTE - 1), 10, MINUTE)).to.deep.equal([]);
      // a renewal does not touch a lease being revoked
      expect(await other.update(leaseRecord('c1', T0 + 90 * MINUTE))).to.equal(false);
      // a failed attempt ends the claim: the next one may be taken at once, by anyone
      const revocation = { attempts: 1, lastError: 'cloud unavailable: 503', nextAttempt: at(T0 + 10 * MINUTE).toISOString() };
      await first.reschedule('c1', revocation);
      expect(await other.claimLease('c1', at(T0 + 2 * MINUTE), MINUTE)).to.deep.equal({ state: 'claimed', record: { ...leaseRecord('c1', T0 + 60 * MINUTE), revocation } });
      // a lapsed claim may be taken again
      expect((await first.claimLease('c1', at(T0 + 3 * MINUTE), MINUTE)).state).to.equal('claimed');
      // a claim by claimDue holds against claimLease
      await first.save(leaseRecord('c2', T0));
      expect(ids(await first.claimDue(at(T0), 10, MINUTE))).to.deep.equal(['c2']);
      expect(await other.claimLease('c2', at(T0 + 1), MINUTE)).to.deep.equal({ state: 'held' });
      await first.remove('c2');
      expect(await other.claimLease('c2', at(T0 + 1), MINUTE)).to.deep.equal({ state: 'gone' });
      expect(await other.claimLease('never', at(T0), MINUTE)).to.deep.equal({ state: 'gone' });
      // of several at once, one gets it
      await first.save(leaseRecord('c3', T0 + 60 * MINUTE));
      const storages = shared ? [first, other] : [first];
      const claims = await Promise.all(Array.from({ length: 9 }, (_, i) => storages[i % storages.length]!.claimLease('c3', at(T0), MINUTE)));
      expect(claims.filter((c) => c.state === 'claimed')).to.have.length(1);
      expect(claims.filter((c) => c.state === 'held')).to.have.length(8);
    });

    it('claimOrphan (where it has it): of several claimers of one orphan, one gets it until the claim lapses', async function () {
      const first = await open();
      if (first.claimOrphan === undefined) this.skip();
      const storages = ctx?.shared === true ? [first, await open(), await open()] : [first];
      const won = await Promise.all(Array.from({ length: 9 }, (_, i) => storages[i % storages.length]!.claimOrphan!('o1', 60 * MINUTE)));
      expect(won.filter(Boolean)).to.have.length(1);
      // another token has a claim of its own; a claim does not make a lease
      expect(await storages.at(-1)!.claimOrphan!('o2', 60 * MINUTE)).to.equal(true);
      expect(await first.count()).to.equal(0);
      expect(await first.claimOrphan!('o3', 100)).to.equal(true);
      await waitUntil('the short claim to lapse', async () => (await storages.at(-1)!.claimOrphan!('o3', 60 * MINUTE)) === true, 10_000, 20);
    });

    it('sees what another instance on the same store saved, removed and claimed', async function () {
      if (ctx?.shared !== true) this.skip();
      const a = await open();
      const b = await open();
      await a.save(leaseRecord('h1', T0));
      expect(await b.get('h1')).to.deep.equal(leaseRecord('h1', T0));
      expect(await b.count()).to.equal(1);
      expect(ids(await b.claimDue(at(T0), 10, MINUTE))).to.deep.equal(['h1']);
      expect(await a.claimDue(at(T0 + MINUTE - 1), 10, MINUTE)).to.deep.equal([]);
      expect(await a.nextDue()).to.deep.equal(at(T0 + MINUTE));
      expect(await a.remove('h1')).to.equal(true);
      expect(await b.get('h1')).to.equal(undefined);
    });

    it('lists thousands of leases with getAll', async () => {
      const storage = await open();
      const bulk = ctx?.bulk ?? 5000;
      const chunk = 500;
      for (let start = 0; start < bulk; start += chunk) {
        const n = Math.min(chunk, bulk - start);
        await Promise.all(Array.from({ length: n }, (_, i) => storage.save(leaseRecord(`b${start + i}`, T0 + start + i))));
      }
      expect(await storage.count()).to.equal(bulk);
      const all = await storage.getAll();
      expect(all.length).to.equal(bulk);
      expect(new Set(ids(all)).size).to.equal(bulk);
      expect(all.find((r) => r.id === 'b1234')).to.deep.equal(leaseRecord('b1234', T0 + 1234));
      expectValid(all.slice(0, 50));
      expect(await storage.nextDue()).to.deep.equal(at(T0));
    });
  });
}
