import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadSnapshot, SnapshotCorruptError, SnapshotUnreadableError, writeFileAtomic } from '@tessera/core';

const Schema = z.object({ version: z.literal(1), token: z.string() });
const SECRET = 'super-secret-token-value';

describe('loadSnapshot', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-snapshot-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what writeFileAtomic wrote, and undefined when there is no file', async () => {
    const path = join(dir, 'state.json');
    expect(await loadSnapshot(path, { schema: Schema })).to.equal(undefined);
    await writeFileAtomic(path, JSON.stringify({ version: 1, token: SECRET }));
    expect(await loadSnapshot(path, { schema: Schema })).to.deep.equal({ version: 1, token: SECRET });
  });

  it('refuses a corrupt file with SnapshotCorruptError that names the file and never quotes it', async () => {
    const path = join(dir, 'state.json');
    for (const text of [`{"version":1,"token":"${SECRET}"`, `${SECRET}`, JSON.stringify({ version: 2, token: SECRET }), JSON.stringify({ version: 1, token: 7, extra: SECRET })]) {
      writeFileSync(path, text);
      const err = (await loadSnapshot(path, { schema: Schema }).then(() => undefined, (e: unknown) => e)) as Error;
      expect(err).to.be.instanceOf(SnapshotCorruptError);
      expect((err as SnapshotCorruptError).code).to.equal('SNAPSHOT_CORRUPT');
      expect(err.message).to.contain(path).and.contain('corrupt').and.not.contain(SECRET);
      expect(JSON.stringify(err)).to.not.contain(SECRET);
    }
  });

  it('refuses a file it cannot read with SnapshotUnreadableError', async () => {
    const err = (await loadSnapshot(dir, { schema: Schema }).then(() => undefined, (e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(SnapshotUnreadableError);
    expect(err.message).to.contain('EISDIR');
  });

  it('ignores a bad file when told, saying why, and decodes through the caller', async () => {
    const path = join(dir, 'state.bin');
    writeFileSync(path, Buffer.from(JSON.stringify({ version: 1, token: SECRET })).toString('base64'));
    const decode = (bytes: Buffer) => Buffer.from(bytes.toString('utf8'), 'base64').toString('utf8');
    expect(await loadSnapshot(path, { schema: Schema, decode })).to.deep.equal({ version: 1, token: SECRET });
    const heard: Error[] = [];
    const refuse = () => {
      throw new Error('wrong key');
    };
    expect(await loadSnapshot(path, { schema: Schema, decode: refuse, ifBad: 'ignore', onIgnored: (e) => heard.push(e) })).to.equal(undefined);
    expect(heard.map((e) => e.name)).to.deep.equal(['SnapshotCorruptError']);
    chmodSync(path, 0o000);
    if (process.getuid?.() !== 0) {
      expect(await loadSnapshot(path, { schema: Schema, ifBad: 'ignore', onIgnored: (e) => heard.push(e) })).to.equal(undefined);
      expect(heard.map((e) => e.name)).to.deep.equal(['SnapshotCorruptError', 'SnapshotUnreadableError']);
    }
  });
});
