// Expiry at scale: 100,000 active leases in a LeaseService with memory storage, due
// evenly over one minute, each revoked by the expiry scheduler. The cloud is a fake in
// this process whose revoke is a Map delete: this measures the scheduler and storage,
// not a cloud. Lateness = time of the revoke - the lease's expiry, over every lease
// (clamped at 0, as LeaseService.stats() does); RSS = this process's peak while the
// leases are created, held and expire.
// Baseline, the same minute on the other core: a process of its own with one bare
// setTimeout per lease doing the same Map delete (same count, same due times).
// Ratios are baseline / value, as for latencies: above 1 is better than the baseline.
// One run (it takes over a minute): its percentiles are over all 100,000 leases.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { silentLogger } from '@tessera/core';
import { type CloudService, type CloudToken, type Lease, LeaseService, memoryStorage, ttlPolicy } from '@tessera/token-lease';
import { percentile, report } from './report.js';

const N = 100_000;
const SPREAD_MS = 60_000;
/** Creation must be over before the first lease falls due. */
const LEAD_MS = 8_000;

interface Outcome {
  lateness: number[];
  peakRss: number;
}

/** Samples RSS every 250 ms until stopped; the peak. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 250);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dueAt = (base: number, i: number) => base + Math.floor((i * SPREAD_MS) / N);
/** Wall-clock ms with a fraction (due times are whole ms; a timer may run a fraction of a ms before one). */
const lateBy = (due: number) => Math.max(0, performance.timeOrigin + performance.now() - due);

/** The baseline: one setTimeout per lease, each doing the Map delete at its due time. */
async function bareTimers(base: number): Promise<Outcome> {
  const rss = rssSampler();
  const tokens = new Map<string, number>();
  const lateness: number[] = [];
  for (let i = 0; i < N; i++) {
    const id = i.toString(16).padStart(16, '0');
    const due = dueAt(base, i);
    tokens.set(id, due);
    setTimeout(() => {
      lateness.push(lateBy(tokens.get(id)!));
      tokens.delete(id);
    }, due - Date.now());
  }
  await until(() => tokens.size === 0, base + SPREAD_MS + 30_000 - Date.now(), 'the bare timers');
  return { lateness, peakRss: rss.stop() };
}

/** A cloud in this process: tokens in a Map, revoke = delete, lateness noted at the revoke. */
class MapCloud implements CloudService {
  readonly name = 'fake-map';
  readonly tokens = new Map<string, number>();
  readonly lateness: number[] = [];
  private next = 0;
  async init(): Promise<void> {}
  async requestedPrivileges(): Promise<undefined> {
    return undefined;
  }
  async create(request: Parameters<CloudService['create']>[0]): Promise<Lease> {
    const id = (this.next++).toString(16).padStart(16, '0');
    this.tokens.set(id, request.expires.getTime());
    return { id, value: `token-${id}`, ttl: request.ttl, tags: [], renewable: true, issued: request.issued.toISOString(), expires: request.expires.toISOString() };
  }
  async revoke(tokenId: string): Promise<void> {
    const expires = this.tokens.get(tokenId);
    if (expires === undefined) return;
    this.lateness.push(lateBy(expires));
    this.tokens.delete(tokenId);
  }
  async renew(tokenId: string, _ttl: number, expires: Date): Promise<void> {
    this.tokens.set(tokenId, expires.getTime());
  }
  async get(tokenId: string): Promise<CloudToken | undefined> {
    return this.tokens.has(tokenId) ? { id: tokenId, managed: true, active: true } : undefined;
  }
  async getAll(): Promise<CloudToken[]> {
    return [...this.tokens.keys()].map((id) => ({ id, managed: true, active: true }));
  }
  getAddress(): string {
    return 'in-process';
  }
}

async function leaseService(base: number): Promise<Outcome & { createMs: number; serviceP99: number }> {
  const rss = rssSampler();
  const cloud = new MapCloud();
  const storage = memoryStorage();
  const service = new LeaseService({ cloud, storage, policy: ttlPolicy({ minTtl: 1, defaultTtl: 60_000, maxTtl: 10 * 60_000 }), logger: silentLogger, quotas: { maxActiveLeases: 0, createsPerMinute: 0 } }); // one owner makes all 100,000: no per-owner quota
  await service.start();
  const caller = { owner: 'bench', admin: false };
  const started = performance.now();
  // a thousand at a time, 64 in flight: p-limit's map queues (and keeps the result of) every item it is given,
  // and 100,000 pending creates with their leases would count against the hub's peak RSS measured here
  const limit = pLimit(64);
  for (let from = 0; from < N; from += 1_000) {
    const chunk = Array.from({ length: Math.min(1_000, N - from) }, (_, k) => from + k);
    await limit.map(chunk, async (i) => {
      await service.create(caller, { ttl: Math.max(1, dueAt(base, i) - Date.now()) });
    });
  }
  const createMs = performance.now() - started;
  if (Date.now() >= base) process.stderr.write(`# warning: creating ${N} leases took ${Math.round(createMs)} ms, past the first expiry\n`);
  await until(() => cloud.tokens.size === 0 && service.stats().revoked === N, base + SPREAD_MS + 30_000 - Date.now(), 'the lease service to revoke every lease');
  const outcome = { lateness: cloud.lateness, peakRss: rss.stop(), createMs, serviceP99: service.stats().lateness.p99 };
  if ((await storage.count()) !== 0) throw new Error('leases left in storage');
  await service.stop();
  await storage.close();
  return outcome;
}

if (process.argv[2] === '--bare-timers') {
  const outcome = await bareTimers(Number(process.argv[3]));
  process.stdout.write(JSON.stringify({ p50: percentile(outcome.lateness, 50), p99: percentile(outcome.lateness, 99), max: Math.max(...outcome.lateness), count: outcome.lateness.length, peakRss: outcome.peakRss }) + '\n');
  process.exit(0);
}

const base = Date.now() + LEAD_MS;
const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--bare-timers', String(base)], { stdio: ['ignore', 'pipe', 'inherit'] });
let childOut = '';
child.stdout.on('data', (d: Buffer) => (childOut += d.toString()));
const childExit = new Promise<number | null>((resolve) => child.once('exit', resolve));

const ours = await leaseService(base);
if ((await childExit) !== 0) throw new Error('the baseline process failed');
const bare = JSON.parse(childOut) as { p50: number; p99: number; max: number; count: number; peakRss: number };
if (ours.lateness.length !== N || bare.count !== N) throw new Error(`revoked ${ours.lateness.length}, bare ${bare.count}, of ${N}`);
process.stderr.write(`# created ${N} leases in ${Math.round(ours.createMs)} ms; LeaseService.stats().lateness p99 over its last 10,000: ${ours.serviceP99} ms\n`);

const what = `${N} leases due over ${SPREAD_MS / 1000} s, memory storage, fake in-process cloud (revoke = Map delete)`;
const baseline = `bare setTimeout per lease doing the Map delete, own process, same due times`;
const ratio = (b: number, v: number) => (v === 0 ? (b === 0 ? 1 : Infinity) : b / v);
const p50 = percentile(ours.lateness, 50);
const p99 = percentile(ours.lateness, 99);
const max = Math.max(...ours.lateness);
report({ name: `expiry lateness p50, ${what}`, value: p50, unit: 'ms', baseline, baselineValue: bare.p50, ratio: ratio(bare.p50, p50), repeats: 1 });
report({ name: `expiry lateness p99, ${what}`, value: p99, unit: 'ms', baseline, baselineValue: bare.p99, ratio: ratio(bare.p99, p99), repeats: 1, target: { of: 'value', atMost: 1000 } });
report({ name: `expiry lateness max, ${what}`, value: max, unit: 'ms', baseline, baselineValue: bare.max, ratio: ratio(bare.max, max), repeats: 1 });
report({ name: `hub peak RSS, ${what}`, value: ours.peakRss / 2 ** 20, unit: 'MiB', baseline, baselineValue: bare.peakRss / 2 ** 20, ratio: bare.peakRss / ours.peakRss, repeats: 1, target: { of: 'value', atMost: 300_000_000 / 2 ** 20 } });
