// Expiry throughput with 3 `tessera hub` processes on one redis-server against 1.
// N leases are created through the hubs (64 in flight, the device sending to them in
// turn), each with the TTL that makes it fall due at one moment T (planned from the last
// run's create rate, with half as much again to spare; a run whose creates would reach
// into the hub's 1 s minimum TTL is done again with twice the lead). From T on the bench
// polls the storage's due set (ZCARD, every 10 ms) until it is empty. A lease leaves
// storage only after its token is deleted at the cloud, so the count left is the count
// not yet revoked: rate = N / (time the set is empty - T), and lateness p50 / p99 = the
// time half / 99 % of the leases were gone - T (to within one poll; T is when the device
// asked, the hub's expiry is a request's transit later, so lateness is overstated by
// that). After each run the cloud must hold no token but its operator's. CPU per
// revocation is the hubs' together (process.cpuUsage() in each) from 200 ms before T.
// N = 20,000: at this machine's 3,400-8,500 revocations/s a run's expiry lasts 2.3-6 s,
// so a poll's 10 ms and the first claim's start hardly count; making them takes 4.5-9 s,
// and 5 repeats of both took 2.6 minutes at load 3.6 (4.1 at load 8.5).
// What each hub does (LeaseService's defaults, not settable from the hub's config): it
// wakes at the earliest due time, claims up to 512 due leases per round trip (one Lua
// script, atomic, so no two hubs take one lease), revokes them 64 at a time (cloud
// DELETE, then the storage's remove) and claims again. So 3 hubs keep up to 192
// revocations in flight at the cloud against 64 for 1: that is part of what 3 hubs are.
// Both sets stay up for the whole run (warm, each warmed by one run of 2,000 first): 1 hub
// on db 1, 3 hubs on db 2 of the same redis-server, each set a deployment of its own;
// the set not measured idles (a nextDue look once a second). Each hub, the cloud
// (influxdb-local) and the redis-server are processes of their own.
// What limits it: every process shares this machine's 2 cores, and at expiry the hubs,
// influxdb-local and redis all want CPU at once. So the ratio shows whether hubs share
// the expiry work without slowing each other, not the capacity more machines would add.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { startRedisServer } from '@tessera/testing';
import { WebSocketTransport } from '@tessera/transport-ws';
import { type ChildServer, hubProcess, influxdbLocalProcess } from './child-processes.js';
import { median, REPEATS, report } from './report.js';

const N = 20_000;
const WARM_UP_LEASES = 2_000;
const IN_FLIGHT = 64;
const POLL_MS = 10;
/** The hub's --min-ttl default: a lease asked for later than T - this would be refused. */
const MIN_TTL = 1_000;
/** Creation is planned to take at most 1 / this of the lead: the rest is margin. */
const LEAD_MARGIN = 1.5;
/** A run whose due set does not shrink for this long has stalled: something failed. */
const STALL_MS = 30_000;
const ORG = 'tessera';

interface HubSet {
  hubs: (ChildServer & { port: number })[];
  redis: Redis;
  /** The namespace's due set, found once the first lease is stored. */
  dueKey?: string;
}

/** What every run shares: the device that makes the leases, and the cloud (influxdb-local) with its operator token. */
interface Bench {
  client: Node;
  cloud: ChildServer;
  token: string;
}

interface ExpiryRun {
  /** Revocations per second from T until none is left. */
  rate: number;
  p50: number;
  p99: number;
  /** CPU time of the set's hubs together, and of the cloud, per revocation (µs), from just before T until none is left. */
  hubCpu: number;
  cloudCpu: number;
  /** Creates per second while the leases were made (to plan the next run's lead). */
  createRate: number;
}

/** Raised when creation could not finish before the last moment a lease could still be asked to fall due at T. */
class LateCreationError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Creates `count` leases through the hubs in turn, 64 in flight, each due at `due` (ms since epoch); creates/s. */
async function createDueAt(client: Node, set: HubSet, count: number, due: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      const to = route(`3#127.0.0.1:${set.hubs[worker % set.hubs.length]!.port}`, 'token_lease');
      while (next < count) {
        next += 1;
        const ttl = due - Date.now();
        if (ttl < MIN_TTL) throw new LateCreationError(`creating ${count} leases ran into the last ${MIN_TTL} ms before they fall due`);
        const answer = JSON.parse(fromUtf8((await client.request(to, JSON.stringify({ action: 'create', options: { ttl } }), { timeout: 30_000 })).payload)) as { result: string; message?: string };
        if (answer.result !== 'success') throw new Error(`lease create failed: ${answer.message ?? '?'}`);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** Leases in the set's storage (its due set, found once the first lease is stored). */
async function leasesLeft(set: HubSet): Promise<number> {
  if (set.dueKey === undefined) {
    const keys = await set.redis.keys('tessera:*:due');
    if (keys.length > 1) throw new Error(`expected one due set, found ${keys.length}`);
    if (keys.length === 0) return 0;
    set.dueKey = keys[0]!;
  }
  return set.redis.zcard(set.dueKey);
}

/** The time (ms since epoch) each share of the leases was first seen revoked, polling the due set from `due` until it is empty. */
async function watchExpiry(set: HubSet, count: number, due: number): Promise<{ half: number; most: number; all: number }> {
  await sleep(due - Date.now());
  const seen: { half?: number; most?: number } = {};
  let left = count;
  let changedAt = Date.now();
  for (;;) {
    const now = await leasesLeft(set);
    const at = Date.now();
    if (now !== left) changedAt = at;
    left = now;
    const revoked = count - left;
    if (seen.half === undefined && revoked >= Math.ceil(count * 0.5)) seen.half = at;
    if (seen.most === undefined && revoked >= Math.ceil(count * 0.99)) seen.most = at;
    if (left === 0) return { half: seen.half!, most: seen.most!, all: at };
    if (at - changedAt > STALL_MS) throw new Error(`expiry stalled with ${left} of ${count} leases left`);
    await sleep(POLL_MS);
  }
}

/** Tokens the cloud holds besides its operator's (none once every lease is revoked). */
async function cloudTokensLeft(bench: Bench): Promise<number> {
  const res = await fetch(`${bench.cloud.url}/api/v2/authorizations?org=${ORG}`, { headers: { authorization: `Token ${bench.token}` } });
  if (!res.ok) throw new Error(`listing authorizations: HTTP ${res.status}`);
  const { authorizations } = (await res.json()) as { authorizations: { token?: string }[] };
  return authorizations.filter((a) => a.token !== bench.token).length;
}

/** One run: `count` leases due at one moment `leadMs` from now, made through the set's hubs, then their expiry watched. */
async function expiryRun(bench: Bench, set: HubSet, count: number, leadMs: number): Promise<ExpiryRun> {
  const due = Date.now() + leadMs;
  let createRate: number;
  try {
    createRate = await createDueAt(bench.client, set, count, due);
  } catch (err) {
    // let what was made expire before anything else runs on this storage
    await sleep(due - Date.now());
    while ((await leasesLeft(set)) > 0) await sleep(100);
    throw err;
  }
  const stored = await leasesLeft(set);
  if (stored !== count) throw new Error(`${stored} leases stored before they fall due, not ${count}`);
  const hubsCpu = async () => sum(await Promise.all(set.hubs.map((h) => h.cpuSeconds())));
  await sleep(due - Date.now() - 200);
  const [hubsBefore, cloudBefore] = [await hubsCpu(), await bench.cloud.cpuSeconds()];
  const seen = await watchExpiry(set, count, due);
  const [hubsAfter, cloudAfter] = [await hubsCpu(), await bench.cloud.cpuSeconds()];
  const left = await cloudTokensLeft(bench);
  if (left !== 0) throw new Error(`${left} tokens left at the cloud after every lease was revoked`);
  return {
    rate: count / ((seen.all - due) / 1000),
    p50: seen.half - due,
    p99: seen.most - due,
    hubCpu: ((hubsAfter - hubsBefore) * 1e6) / count,
    cloudCpu: ((cloudAfter - cloudBefore) * 1e6) / count,
    createRate,
  };
}

/** A run, its lead planned from the last creation rate; a run whose creation came too late is done again with twice the lead. */
async function plannedRun(bench: Bench, set: HubSet, count: number, plan: { createRate: number }): Promise<ExpiryRun> {
  let lead = Math.ceil((LEAD_MARGIN * count * 1000) / plan.createRate) + MIN_TTL;
  for (let attempt = 1; ; attempt++) {
    try {
      const run = await expiryRun(bench, set, count, lead);
      plan.createRate = run.createRate;
      return run;
    } catch (err) {
      if (!(err instanceof LateCreationError) || attempt === 3) throw err;
      process.stderr.write(`# ${err.message} (lead ${lead} ms): again with twice the lead\n`);
      lead *= 2;
    }
  }
}

const token = randomBytes(32).toString('base64url');
const cloud = await influxdbLocalProcess({ token, org: ORG, bucket: 'tessera' });
const client = new Node({ name: 'device', logger: silentLogger });
new WebSocketTransport(client);
const bench: Bench = { client, cloud, token };
const server = await startRedisServer();
const db = { 1: 1, 3: 2 } as const;
const sets: Record<1 | 3, HubSet> = {
  1: { hubs: [], redis: new Redis(`${server.url}/${db[1]}`) },
  3: { hubs: [], redis: new Redis(`${server.url}/${db[3]}`) },
};
try {
  for (const count of [1, 3] as const) {
    for (let n = 0; n < count; n++) sets[count].hubs.push(await hubProcess(cloud.url, token, `${server.url}/${db[count]}`, `bench-expiry-${count}`));
  }
  const plan = { createRate: 1_000 };
  for (const count of [1, 3] as const) await plannedRun(bench, sets[count], WARM_UP_LEASES, plan);
  const runs: Record<1 | 3, ExpiryRun[]> = { 1: [], 3: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const count of [1, 3] as const) {
      const run = await plannedRun(bench, sets[count], N, plan);
      process.stderr.write(
        `# ${count} hub(s): ${Math.round(run.rate)} revocations/s, lateness p50 ${run.p50} ms, p99 ${run.p99} ms; ` +
          `CPU per revocation: hubs ${Math.round(run.hubCpu)} µs, cloud ${Math.round(run.cloudCpu)} µs (created at ${Math.round(run.createRate)}/s)\n`,
      );
      runs[count].push(run);
    }
  }
  const what = `${N} leases due at one moment, one redis-server`;
  const baseline = `1 hub (its own process) on the same redis-server, the same ${N} leases made the same way and due at one moment, same run, turns taken; every hub, influxdb-local, redis-server and the device share the machine's 2 cores`;
  const of = (count: 1 | 3, key: 'rate' | 'p50' | 'p99' | 'hubCpu') => median(runs[count].map((run) => run[key]));
  report({ name: `lease expiry throughput, 3 hubs vs 1, ${what}`, value: of(3, 'rate'), unit: 'revocations/s', baseline, baselineValue: of(1, 'rate'), repeats: REPEATS });
  for (const p of ['p50', 'p99'] as const) {
    report({ name: `lease expiry lateness ${p}, 3 hubs vs 1, ${what}`, value: of(3, p), unit: 'ms', baseline, baselineValue: of(1, p), ratio: of(1, p) / of(3, p), repeats: REPEATS });
  }
  report({
    name: `lease expiry CPU per revocation of the hubs together, 3 hubs vs 1, ${what}`,
    value: of(3, 'hubCpu'),
    unit: 'µs',
    baseline: `${baseline}; process.cpuUsage() in each hub, from 200 ms before the leases fall due until none is left`,
    baselineValue: of(1, 'hubCpu'),
    ratio: of(1, 'hubCpu') / of(3, 'hubCpu'),
    repeats: REPEATS,
  });
} finally {
  for (const set of Object.values(sets)) {
    for (const h of set.hubs) await h.stop();
    set.redis.disconnect();
  }
  await client.stop();
  await cloud.stop();
  await server.stop();
}
