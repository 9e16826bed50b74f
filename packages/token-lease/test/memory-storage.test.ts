import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { memoryStorage, type StorageNamespace, type StorageService } from '@tessera/token-lease';
import { leaseRecord, rejection, storageServiceSuite, waitUntil } from '@tessera/testing';
import { DueQueue, type DueEntry } from '../src/memory-storage/due-queue.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const NS: StorageNamespace = { cloudService: 'influxdb-v2', cloudServiceAddress: 'http://127.0.0.1:8086 org=tessera' };

storageServiceSuite('memory', async () => ({ create: () => memoryStorage(), shared: false, bulk: 10_000 }));

storageServiceSuite('memory with a snapshot file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-memory-suite-'));
  let n = 0;
  return {
    create: () => memoryStorage({ snapshotPath: join(dir, `leases-${n++}.json`), snapshotDelayMs: 5 }),
    shared: false,
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});



describe('memoryStorage', () => {
  let dir: string;
  const open: StorageService[] = [];
  const start = async (options: Parameters<typeof memoryStorage>[0] = {}, ns = NS): Promise<StorageService> => {
    const storage = memoryStorage(options);
    open.push(storage);
    await storage.init(ns);
    return storage;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-memory-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('is named memory and refuses use before init and after close', async () => {
    const storage = memoryStorage();
    expect(storage.name).to.equal('memory');
    expect((await rejection(storage.count())).message).to.match(/init\(\)/);
    await storage.init(NS);
    await storage.init(NS);
    expect((await rejection(storage.init({ ...NS, cloudService: 'other' }))).name).to.equal('InvalidOptionsError');
    await storage.close();
    await storage.close();
    expect((await rejection(storage.get('x'))).name).to.equal('StorageUnavailableError');
  });

  it('checks claimDue arguments', async () => {
    const storage = await start();
    for (const [now, limit, claimMs] of [[new Date('nope'), 1, 1], [new Date(T0), -1, 1], [new Date(T0), 1.5, 1], [new Date(T0), 1, -5]] as const) {
      expect((await rejection(storage.claimDue(now, limit, claimMs))).name).to.equal('InvalidOptionsError');
    }
  });

  it('hands out each due lease once when claimMs is 0', async () => {
    const storage = await start();
    await storage.save(leaseRecord('a', T0));
    await storage.save(leaseRecord('b', T0));
    expect((await storage.claimDue(new Date(T0), 10, 0)).map((r) => r.id)).to.deep.equal(['a', 'b']);
  });

  it('restores leases, claims and retries from its snapshot in a new instance', async () => {
    const snapshotPath = join(dir, 'state', 'leases.json');
    const first = await start({ snapshotPath });
    for (let i = 0; i < 5; i++) await first.save(leaseRecord(`l${i}`, T0 + i * MINUTE));
    await first.remove('l4');
    await first.claimDue(new Date(T0), 1, 10 * MINUTE); // l0 claimed until T0+10m
    const revocation = { attempts: 1, lastError: '503', nextAttempt: new Date(T0 + 30 * MINUTE).toISOString() };
    await first.reschedule('l1', revocation);
    const before = await first.getAll();
    await first.close();
    expect(statSync(snapshotPath).mode & 0o777).to.equal(0o600);
    expect(readFileSync(snapshotPath, 'utf8')).to.contain('"format":"tessera-memory-storage"');

    const second = await start({ snapshotPath });
    expect(await second.getAll()).to.deep.equal(before);
    expect(await second.get('l1')).to.deep.equal({ ...leaseRecord('l1', T0 + MINUTE), revocation });
    expect(await second.nextDue()).to.deep.equal(new Date(T0 + 2 * MINUTE));
    const due = await second.claimDue(new Date(T0 + 10 * MINUTE), 10, MINUTE);
    expect(due.map((r) => r.id)).to.deep.equal(['l2', 'l3', 'l0']);
  });

  it('writes the snapshot by itself shortly after a change, without close', async () => {
    const snapshotPath = join(dir, 'leases.json');
    const storage = await start({ snapshotPath, snapshotDelayMs: 10 });
    await storage.save(leaseRecord('auto', T0));
    await waitUntil('the snapshot to hold the lease', () => existsSync(snapshotPath) && readFileSync(snapshotPath, 'utf8').includes('"auto"'), 5_000);
    await storage.remove('auto');
    await waitUntil('the snapshot to drop the lease', () => !readFileSync(snapshotPath, 'utf8').includes('"auto"'), 5_000);
  });

  it('keeps other namespaces found in the snapshot file', async () => {
    const snapshotPath = join(dir, 'leases.json');
    const other = await start({ snapshotPath }, { ...NS, cloudService: 'influxdb-v1' });
    await other.save(leaseRecord('theirs', T0));
    await other.close();
    const mine = await start({ snapshotPath });
    expect(await mine.count()).to.equal(0);
    await mine.save(leaseRecord('mine', T0));
    await mine.close();
    const again = await start({ snapshotPath }, { ...NS, cloudService: 'influxdb-v1' });
    expect((await again.getAll()).map((r) => r.id)).to.deep.equal(['theirs']);
  });

  it('refuses a corrupt snapshot with a clear error and leaves the file alone', async () => {
    const snapshotPath = join(dir, 'leases.json');
    const contents = [
      '{"format":"tessera-memory-storage","version":1,"namespaces":[{"cloudService"',
      JSON.stringify({ format: 'tessera-memory-storage', version: 1, namespaces: [{ cloudService: 'x', cloudServiceAddress: 'y', leases: [{ due: 1, record: { id: 'no-fields' } }] }] }),
      JSON.stringify({ something: 'else' }),
    ];
    for (const text of contents) {
      writeFileSync(snapshotPath, text);
      const storage = memoryStorage({ snapshotPath });
      open.push(storage);
      const err = await rejection(storage.init(NS));
      expect(err.name).to.equal('StorageUnavailableError');
      expect(err.message).to.contain(snapshotPath).and.to.contain('corrupt');
      await storage.close();
      expect(readFileSync(snapshotPath, 'utf8')).to.equal(text);
    }
  });

  it('claims 100,000 leases in due order, each once', async function () {
    this.timeout(120_000);
    const storage = await start();
    const n = 100_000;
    const rand = fc.sample(fc.integer({ min: 0, max: 10_000_000 }), { numRuns: n, seed: 42 });
    for (let i = 0; i < n; i++) await storage.save(leaseRecord(`big${i}`, T0 + rand[i]!));
    let previous = -Infinity;
    let claimed = 0;
    for (;;) {
      const batch = await storage.claimDue(new Date(T0 + 10_000_000), 1000, 60 * MINUTE);
      if (batch.length === 0) break;
      for (const record of batch) {
        const due = Date.parse(record.expires);
        expect(due).to.be.at.least(previous);
        previous = due;
      }
      claimed += batch.length;
    }
    expect(claimed).to.equal(n);
    expect(await storage.count()).to.equal(n);
    // its speed is measured in bench/storage.bench.ts, not bounded here: a busy machine is no proof of a slow heap
  });
});

describe('DueQueue', () => {
  interface E extends DueEntry {
    id: string;
  }

  it('behaves like a sorted list under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('set' as const), id: fc.integer({ min: 0, max: 30 }), due: fc.integer({ min: 0, max: 20 }) }),
            fc.record({ op: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 30 }) }),
            fc.record({ op: fc.constant('pop' as const) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const queue = new DueQueue<E>();
          const entries = new Map<string, E>();
          const model = new Map<string, number>();
          const expected = () =>
            [...model.entries()].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0))[0]?.[0];
          for (const step of ops) {
            if (step.op === 'set') {
              const id = `e${step.id}`;
              let entry = entries.get(id);
              if (entry === undefined) {
                entry = { id, due: step.due, slot: -1 };
                entries.set(id, entry);
              }
              queue.reschedule(entry, step.due);
              model.set(id, step.due);
            } else if (step.op === 'delete') {
              const entry = entries.get(`e${step.id}`);
              if (entry !== undefined) queue.delete(entry);
              model.delete(`e${step.id}`);
            } else {
              const want = expected();
              expect(queue.pop()?.id).to.equal(want);
              if (want !== undefined) model.delete(want);
            }
            expect(queue.size).to.equal(model.size);
            expect(queue.peek()?.id).to.equal(expected());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
