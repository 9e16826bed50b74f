import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InvalidAuthorityOptionsError, memoryMemberStore, MemberStoreUnavailableError } from '@tessera/authority';
import { memberStoreSuite, someIdentifier, someToken } from './member-store-suite.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

memberStoreSuite('memory', async () => ({ create: (limits) => memoryMemberStore({ ...limits }) }));

memberStoreSuite('memory with a snapshot file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-authority-suite-'));
  let n = 0;
  return {
    create: (limits) => memoryMemberStore({ ...limits, snapshotPath: join(dir, `members-${++n}.json`) }),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('memoryMemberStore snapshot', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-authority-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted hub keeps its members and unused tokens; the file is 0600 and holds no token', async () => {
    const path = join(dir, 'state', 'members.json');
    const before = memoryMemberStore({ snapshotPath: path });
    const used = someToken({ attributes: { role: 'admin' } });
    const unused = someToken({ uses: 2, attributes: { role: 'device' } });
    await before.addToken(used.record, T0);
    await before.addToken(unused.record, T0);
    const admin = someIdentifier();
    await before.redeem(used.record.hash, admin, T0);
    await before.close();

    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.to.include(used.token);
    expect(text).not.to.include(unused.token);

    const after = memoryMemberStore({ snapshotPath: path });
    expect(await after.member(admin)).to.deep.equal({ identifier: admin, attributes: { role: 'admin' }, enrolledAt: new Date(T0).toISOString() });
    // the used token stays used, the unused one redeems (twice)
    expect((await after.redeem(used.record.hash, someIdentifier(), T0)).ok).to.equal(false);
    expect((await after.redeem(unused.record.hash, someIdentifier(), T0)).ok).to.equal(true);
    expect((await after.redeem(unused.record.hash, someIdentifier(), T0)).ok).to.equal(true);
    expect(await after.members()).to.have.length(3);
    await after.close();
  });

  it('writes nothing for a refusal, whatever its reason (unknown, expired, used up, already a member, full): none waits for the file', async () => {
    const path = join(dir, 'members.json');
    const store = memoryMemberStore({ snapshotPath: path, maxMembers: 1 });
    const once = someToken();
    const expiring = someToken({ expires: T0 + 1 });
    const valid = someToken({ uses: 5 });
    for (const t of [once, expiring, valid]) await store.addToken(t.record, T0);
    const member = someIdentifier();
    expect((await store.redeem(once.record.hash, member, T0)).ok).to.equal(true);
    // each write replaces the file (a new inode): the same inode afterwards is no write
    const written = statSync(path).ino;
    const refusals = [
      await store.redeem(someToken().record.hash, someIdentifier(), T0 + 2),
      await store.redeem(expiring.record.hash, someIdentifier(), T0 + 2),
      await store.redeem(once.record.hash, someIdentifier(), T0 + 2),
      await store.redeem(valid.record.hash, member, T0 + 2),
      await store.redeem(valid.record.hash, someIdentifier(), T0 + 2),
    ];
    expect(refusals.map((r) => (r.ok ? 'ok' : r.reason))).to.deep.equal(['unknown', 'expired', 'unknown', 'already_member', 'full']);
    await store.close();
    expect(statSync(path).ino, 'the snapshot was not written again').to.equal(written);
    // the expired token leaves the file with the next change
    const again = memoryMemberStore({ snapshotPath: path });
    await again.addToken(someToken().record, T0 + 2);
    await again.close();
    expect(readFileSync(path, 'utf8')).not.to.include(expiring.record.hash);
  });

  it('refuses to start on a corrupt snapshot rather than overwrite it, and does not quote it', async () => {
    const path = join(dir, 'members.json');
    const secret = someToken().token;
    writeFileSync(path, `{"format":"tessera-authority","members":[${JSON.stringify(secret)}`);
    const store = memoryMemberStore({ snapshotPath: path });
    const err = await store.init().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MemberStoreUnavailableError);
    expect((err as Error).message).not.to.include(secret);
    expect(await store.member(someIdentifier()).catch((e: unknown) => e)).to.be.instanceOf(MemberStoreUnavailableError);
    expect(readFileSync(path, 'utf8')).to.include(secret);
  });

  it('checks its options', () => {
    expect(() => memoryMemberStore({ snapshotPath: '' })).to.throw(InvalidAuthorityOptionsError);
    expect(() => memoryMemberStore({ maxTokens: 0 })).to.throw(InvalidAuthorityOptionsError);
  });
});
