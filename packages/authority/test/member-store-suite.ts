import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  AuthorityQuotaError,
  type MemberStore,
  type MemberStoreLimits,
  newBootstrapToken,
  type TokenRecord,
  tokenHash,
  tokenReference,
} from '@tessera/authority';

export interface MemberStoreSetup {
  /** A new, empty store (its own file or key prefix) with these limits. */
  create(limits?: Partial<MemberStoreLimits>): MemberStore | Promise<MemberStore>;
  teardown?(): Promise<void>;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;

/** A fresh identifier. */
export function someIdentifier(): string {
  return `I${randomBytes(32).toString('hex')}`;
}

/** A token and its record. */
export function someToken(fields: Partial<Omit<TokenRecord, 'hash' | 'reference'>> = {}): { token: string; record: TokenRecord } {
  const token = newBootstrapToken();
  const hash = tokenHash(token)!;
  return { token, record: { hash, reference: tokenReference(hash), attributes: { role: 'device' }, uses: 1, expires: T0 + 10 * MINUTE, ...fields } };
}

/** What every MemberStore does, run against each implementation. */
export function memberStoreSuite(name: string, setup: () => Promise<MemberStoreSetup>): void {
  describe(`MemberStore: ${name}`, function () {
    this.timeout(30_000);
    let context: MemberStoreSetup;
    const open: MemberStore[] = [];
    const create = async (limits?: Partial<MemberStoreLimits>): Promise<MemberStore> => {
      const store = await context.create(limits);
      open.push(store);
      await store.init();
      return store;
    };

    before(async () => {
      context = await setup();
    });
    after(async () => {
      await context.teardown?.();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it("redeems a token: the identifier becomes a member with the token's attributes, enrolled now", async () => {
      const store = await create();
      const { record } = someToken({ attributes: { role: 'device', bucket: 'metrics' } });
      await store.addToken(record, T0);
      const who = someIdentifier();
      const redemption = await store.redeem(record.hash, who, T0 + MINUTE);
      const member = { identifier: who, attributes: { role: 'device', bucket: 'metrics' }, enrolledAt: new Date(T0 + MINUTE).toISOString() };
      expect(redemption).to.deep.equal({ ok: true, member, reference: record.reference });
      expect(await store.member(who)).to.deep.equal(member);
      expect(await store.members()).to.deep.equal([member]);
      expect(await store.member(someIdentifier())).to.equal(undefined);
    });

    it('a one-use token redeems once: the same identity again and another identity are refused', async () => {
      const store = await create();
      const { record } = someToken();
      await store.addToken(record, T0);
      const first = someIdentifier();
      expect((await store.redeem(record.hash, first, T0)).ok).to.equal(true);
      expect(await store.redeem(record.hash, first, T0)).to.include({ ok: false });
      expect(await store.redeem(record.hash, someIdentifier(), T0)).to.include({ ok: false });
      expect(await store.members()).to.have.length(1);
    });

    it('a token of N uses enrolls exactly N identities; a member presenting it again spends nothing', async () => {
      const store = await create();
      const { record } = someToken({ uses: 3 });
      await store.addToken(record, T0);
      const [a, b, c, d] = [someIdentifier(), someIdentifier(), someIdentifier(), someIdentifier()];
      expect((await store.redeem(record.hash, a, T0)).ok).to.equal(true);
      expect(await store.redeem(record.hash, a, T0)).to.deep.equal({ ok: false, reason: 'already_member', reference: record.reference });
      expect((await store.redeem(record.hash, b, T0)).ok).to.equal(true);
      expect((await store.redeem(record.hash, c, T0)).ok).to.equal(true);
      expect((await store.redeem(record.hash, d, T0)).ok).to.equal(false);
      expect((await store.members()).map((m) => m.identifier).sort()).to.deep.equal([a, b, c].sort());
    });

    it('refuses an expired token (from its expiry on) and an unknown one, and says why only to the hub', async () => {
      const store = await create();
      const { record } = someToken({ expires: T0 + MINUTE });
      await store.addToken(record, T0);
      expect(await store.redeem(record.hash, someIdentifier(), T0 + MINUTE)).to.deep.equal({ ok: false, reason: 'expired', reference: record.reference });
      expect(await store.redeem(someToken().record.hash, someIdentifier(), T0)).to.deep.equal({ ok: false, reason: 'unknown' });
      expect(await store.members()).to.deep.equal([]);
    });

    it('of 50 concurrent redemptions of a one-use token exactly one succeeds', async () => {
      const store = await create();
      const { record } = someToken();
      await store.addToken(record, T0);
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.redeem(record.hash, someIdentifier(), T0)));
      expect(outcomes.filter((o) => o.ok)).to.have.length(1);
      expect(await store.members()).to.have.length(1);
    });

    it('removes a member: gone at once, removing again says so, and the identity may enroll anew', async () => {
      const store = await create();
      const who = someIdentifier();
      const first = someToken();
      await store.addToken(first.record, T0);
      await store.redeem(first.record.hash, who, T0);
      expect(await store.remove(who)).to.equal(true);
      expect(await store.member(who)).to.equal(undefined);
      expect(await store.members()).to.deep.equal([]);
      expect(await store.remove(who)).to.equal(false);
      const second = someToken({ attributes: { role: 'admin' } });
      await store.addToken(second.record, T0);
      expect(await store.redeem(second.record.hash, who, T0)).to.include({ ok: true });
      expect((await store.member(who))?.attributes).to.deep.equal({ role: 'admin' });
    });

    it('lists members in identifier order, a page at a time', async () => {
      const store = await create();
      const { record } = someToken({ uses: 25 });
      await store.addToken(record, T0);
      const ids = Array.from({ length: 25 }, someIdentifier);
      for (const id of ids) await store.redeem(record.hash, id, T0);
      const sorted = [...ids].sort();
      expect((await store.members()).map((m) => m.identifier)).to.deep.equal(sorted);
      const first = await store.members({ limit: 10 });
      const second = await store.members({ after: first.at(-1)!.identifier, limit: 10 });
      const third = await store.members({ after: second.at(-1)!.identifier, limit: 10 });
      expect([...first, ...second, ...third].map((m) => m.identifier)).to.deep.equal(sorted);
      expect(third).to.have.length(5);
      expect(await store.members({ after: sorted.at(-1)! })).to.deep.equal([]);
    });

    it('holds at most maxTokens outstanding tokens; expired ones make room', async () => {
      const store = await create({ maxTokens: 2 });
      await store.addToken(someToken({ expires: T0 + MINUTE }).record, T0);
      await store.addToken(someToken({ expires: T0 + 2 * MINUTE }).record, T0);
      const refused = await store.addToken(someToken().record, T0).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(AuthorityQuotaError);
      // one has expired by now: it is dropped, and the new one fits
      const late = someToken({ expires: T0 + 10 * MINUTE });
      await store.addToken(late.record, T0 + MINUTE);
      expect((await store.redeem(late.record.hash, someIdentifier(), T0 + MINUTE)).ok).to.equal(true);
    });

    it('holds at most maxMembers members: enrolling beyond is refused (full) without spending the token', async () => {
      const store = await create({ maxMembers: 2 });
      const { record } = someToken({ uses: 3 });
      await store.addToken(record, T0);
      const [a, b, c] = [someIdentifier(), someIdentifier(), someIdentifier()];
      await store.redeem(record.hash, a, T0);
      await store.redeem(record.hash, b, T0);
      expect(await store.redeem(record.hash, c, T0)).to.deep.equal({ ok: false, reason: 'full', reference: record.reference });
      await store.remove(a);
      expect((await store.redeem(record.hash, c, T0)).ok).to.equal(true);
    });
  });
}
