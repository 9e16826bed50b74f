import { expect } from 'chai';
import pLimit from 'p-limit';
import { LeaseSchema, type CloudService, type Lease } from '@tessera/token-lease';

/** A CloudService that is expected to fail, and how. */
export interface FailingService {
  label: string;
  service: CloudService;
  /** The error class name every call must throw, e.g. `CloudUnavailableError`. */
  error: 'CloudUnavailableError' | 'CloudRejectedError';
}

/** What an implementation hands the compliance suite. */
export interface CloudServiceSuiteContext {
  /** The service under test; the suite calls init() on it. */
  service: CloudService;
  /** Does the credential work (e.g. a write with it succeeds)? */
  canUse(lease: Lease): Promise<boolean>;
  /** Cloud options for create requests (default `{}`: the service's configured defaults). */
  createOptions?: Record<string, unknown>;
  /** An id in this service's format that names no token. */
  missingId: string;
  /** Creates a token straight in the cloud without the service's marker; returns its id. */
  createUnmanaged?(): Promise<string>;
  /** How many tokens the listing test creates (default 2000). */
  bulk?: number;
  /** How many of them it creates at once (default 32): a cloud that hashes each credential wants fewer, or requests queue past their timeout. */
  bulkConcurrency?: number;
  /** Services on the same cloud that must fail (bad credentials, nothing listening). */
  failing?: FailingService[];
  /** Secrets (operator token, admin password) that no error message may contain. */
  secrets?: string[];
  teardown(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * The CloudService compliance suite: every implementation runs it with its own setup.
 * `setup` gets mocha's context so it may `this.skip()` when its server is unavailable.
 */
export function cloudServiceSuite(name: string, setup: (ctx: Mocha.Context) => Promise<CloudServiceSuiteContext>): void {
  describe(`CloudService compliance: ${name}`, function () {
    this.timeout(120_000);
    let ctx: CloudServiceSuiteContext | undefined;
    /** Every lease value the suite has seen: none may appear in an error message. */
    const values: string[] = [];

    const c = (): CloudServiceSuiteContext => {
      if (ctx === undefined) throw new Error('setup did not run');
      return ctx;
    };
    const create = async (ttl = HOUR, at = new Date()): Promise<Lease> => {
      const issued = new Date(Math.floor(at.getTime()));
      const expires = new Date(issued.getTime() + ttl);
      const lease = await c().service.create({ ttl, issued, expires, options: { ...(c().createOptions ?? {}) } });
      values.push(lease.value);
      return lease;
    };
    const managedIds = async (): Promise<Set<string>> =>
      new Set((await c().service.getAll()).filter((t) => t.managed).map((t) => t.id));
    const expectClean = (err: unknown): void => {
      const text = err instanceof Error ? `${err.message} ${err.stack ?? ''}` : String(err);
      for (const secret of [...values, ...(c().secrets ?? [])]) {
        if (secret.length >= 6) expect(text.includes(secret), 'an error message holds a secret').to.equal(false);
      }
    };

    before(async function () {
      ctx = await setup(this);
      await ctx.service.init();
    });
    after(async () => {
      await ctx?.service.close?.();
      await ctx?.teardown();
    });

    it('has a name and a stable address', () => {
      expect(c().service.name).to.be.a('string').and.not.equal('');
      expect(c().service.getAddress()).to.be.a('string').and.not.equal('');
      expect(c().service.getAddress()).to.equal(c().service.getAddress());
    });

    it('create returns a lease whose credential works', async () => {
      const before = new Date();
      const lease = await create(60_000, before);
      expect(() => LeaseSchema.parse(lease)).not.to.throw();
      expect(lease.ttl).to.equal(60_000);
      expect(lease.issued).to.equal(new Date(before.getTime()).toISOString());
      expect(lease.expires).to.equal(new Date(before.getTime() + 60_000).toISOString());
      expect(await c().canUse(lease)).to.equal(true);
      await c().service.revoke(lease.id);
    });

    it('revoke makes the credential stop working', async () => {
      const lease = await create();
      expect(await c().canUse(lease)).to.equal(true);
      await c().service.revoke(lease.id);
      expect(await c().canUse(lease)).to.equal(false);
      expect(await c().service.get(lease.id)).to.equal(undefined);
    });

    it('revoking a token that is already gone succeeds', async () => {
      const lease = await create();
      await c().service.revoke(lease.id);
      await c().service.revoke(lease.id);
      await c().service.revoke(c().missingId);
    });

    it('get sees a managed token with the expiry it was created with, and nothing for a missing one', async () => {
      const lease = await create(90_000);
      const token = await c().service.get(lease.id);
      expect(token).to.deep.include({ id: lease.id, managed: true, expires: lease.expires, active: true });
      expect(await c().service.get(c().missingId)).to.equal(undefined);
      await c().service.revoke(lease.id);
    });

    it('getAll sees exactly the tokens that exist', async () => {
      const a = await create();
      const b = await create(2 * HOUR);
      const gone = await create();
      await c().service.revoke(gone.id);
      const all = await c().service.getAll();
      expect(all.find((t) => t.id === a.id)).to.deep.include({ managed: true, expires: a.expires, active: true });
      expect(all.find((t) => t.id === b.id)).to.deep.include({ managed: true, expires: b.expires, active: true });
      expect(all.some((t) => t.id === gone.id)).to.equal(false);
      expect([...(await managedIds())].sort()).to.deep.equal([a.id, b.id].sort());
      await c().service.revoke(a.id);
      await c().service.revoke(b.id);
      expect((await managedIds()).size).to.equal(0);
    });

    it('getAll and get report tokens it did not create as unmanaged', async function () {
      const createUnmanaged = c().createUnmanaged;
      if (createUnmanaged === undefined) this.skip();
      const id = await createUnmanaged();
      const all = await c().service.getAll();
      expect(all.find((t) => t.id === id)).to.deep.include({ managed: false });
      expect(await c().service.get(id)).to.deep.include({ id, managed: false });
      expect((await managedIds()).has(id)).to.equal(false);
    });

    it('renew updates the recorded expiry and the credential keeps working', async () => {
      const lease = await create(60_000);
      const expires = new Date(Date.parse(lease.expires) + 5 * 60_000);
      await c().service.renew(lease.id, 6 * 60_000, expires);
      expect(await c().service.get(lease.id)).to.deep.include({ managed: true, expires: expires.toISOString() });
      const listed = (await c().service.getAll()).find((t) => t.id === lease.id);
      expect(listed).to.deep.include({ managed: true, expires: expires.toISOString() });
      expect(await c().canUse(lease)).to.equal(true);
      await c().service.revoke(lease.id);
    });

    it('renewing a token that is gone throws CloudNotFoundError', async () => {
      const lease = await create();
      await c().service.revoke(lease.id);
      const err = await rejection(c().service.renew(lease.id, HOUR, new Date(Date.now() + HOUR)));
      expect(err).to.have.property('name', 'CloudNotFoundError');
      expectClean(err);
    });

    it('getAll lists every token when there are thousands', async function () {
      const count = c().bulk ?? 2000;
      this.timeout(Math.max(120_000, count * 200));
      const limit = pLimit(c().bulkConcurrency ?? 32);
      const ids = await limit.map(Array.from({ length: count }, (_, i) => i), async (i) => {
        const lease = await create(HOUR + i);
        return lease.id;
      });
      expect(new Set(ids).size).to.equal(count);
      const managed = await managedIds();
      expect(managed.size).to.equal(count);
      for (const id of ids) expect(managed.has(id)).to.equal(true);
      await limit.map(ids, (id) => c().service.revoke(id));
      expect((await managedIds()).size).to.equal(0);
    });

    it('errors carry a typed class and never a token value or operator secret', async function () {
      const failing = c().failing ?? [];
      if (failing.length === 0) this.skip();
      const lease = await create();
      const expires = new Date(Date.now() + HOUR);
      for (const { label, service, error } of failing) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['create', () => service.create({ ttl: HOUR, issued: new Date(), expires, options: { ...(c().createOptions ?? {}) } })],
          ['revoke', () => service.revoke(lease.id)],
          ['renew', () => service.renew(lease.id, HOUR, expires)],
          ['get', () => service.get(lease.id)],
          ['getAll', () => service.getAll()],
        ];
        for (const [method, call] of calls) {
          const err = await rejection(call());
          expect(err, `${label} ${method}`).to.have.property('name', error);
          expectClean(err);
        }
      }
      await c().service.revoke(lease.id);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
