// Outages: under load, Redis goes down (the redis-server process killed, started again on
// the same port and append-only file), later InfluxDB does (influxdb-local stopped, started
// again on the same port and persist file), the hub running throughout. While each lasts,
// requests must fail fast with `unavailable` (none left unanswered past the client's
// timeout); after it, every request succeeds again without restarting anything, and every
// revocation that fell due during it is done, none twice (influxdb-local's access log: a
// DELETE of a token already deleted is a second revocation).
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@tessera/testing';
import type { Fleet } from '../fleet/fleet.js';
import { describeOutcomes, failures, latency, outcomes } from '../fleet/fleet-record.js';
import { cloudTokens, storedLeases } from '../fleet/ground-truth.js';
import { type Stage, withStage } from '../fleet/stage.js';
import type { Emit } from '../figure.js';
import type { Evidence } from '../evidence.js';
import type { Scenario } from '../scenario.js';

const SIZES = {
  full: { steady: 900, brief: 100, processes: 4, warmS: 10, outageS: 10, recoverS: 15, recoveryS: 5, thinkMs: [2_000, 6_000] as [number, number], settleS: 60 },
  ci: { steady: 40, brief: 10, processes: 1, warmS: 2, outageS: 3, recoverS: 5, recoveryS: 2, thinkMs: [200, 800] as [number, number], settleS: 20 },
};
/** The devices' request timeout: a request unanswered this long hung. */
const REQUEST_TIMEOUT_MS = 5_000;
const LEASE_ACTIONS = ['create', 'get', 'renew', 'revoke'] as const;
const DELETE_PATH = /^\/api\/v2\/authorizations\/([^/]+)$/;

/** What one outage left to check once it is over. */
interface OutageWindow {
  what: string;
  down: number;
  up: number;
  /** Leases in storage when it began that fell due while it lasted. */
  due: string[];
}

const scenario: Scenario = {
  name: 'outages',
  description:
    'Under load, Redis is down for a while, then InfluxDB is: requests fail fast with `unavailable`, the hub recovers without a restart, every revocation that fell due meanwhile is done afterwards, none twice.',
  async run(size, emit, evidence) {
    const s = SIZES[size];
    // influxdb-local's answers to DELETE /api/v2/authorizations/<id>, per id, across its restart
    const deletes = new Map<string, Array<{ status: number; at: number }>>();
    const influxAccessLog = ({ method, path, status }: { method: string; path: string; status: number }): void => {
      const m = method === 'DELETE' ? DELETE_PATH.exec(path) : null;
      if (m !== null) deletes.set(m[1]!, [...(deletes.get(m[1]!) ?? []), { status, at: Date.now() }]);
    };
    await withStage(evidence, { redisPersistence: true, influxPersistence: true, influxAccessLog }, async (stage) => {
      const maxMs = (s.warmS + 2 * (s.outageS + s.recoverS) + s.settleS + 240) * 1000;
      const steady = await stage.fleet({
        name: 'steady',
        devices: s.steady,
        processes: s.processes,
        behaviour: { kind: 'lifecycle', ttl: 60_000, renewals: 2, end: 'revoke', thinkMs: s.thinkMs, write: true },
        requestTimeout: REQUEST_TIMEOUT_MS,
        maxMs,
      });
      // 2 s leases left to expire: some fall due during each outage
      const brief = await stage.fleet({
        name: 'brief',
        first: s.steady,
        devices: s.brief,
        processes: 1,
        behaviour: { kind: 'lifecycle', ttl: 2_000, renewals: 0, end: 'expire', thinkMs: [200, 600], write: false },
        requestTimeout: REQUEST_TIMEOUT_MS,
        maxMs,
      });
      emit({ name: 'devices connected (each enrolled once, its own identity)', value: steady.ready + brief.ready, unit: 'devices', bound: { atLeast: s.steady + s.brief } });
      const hubPid = stage.hub.process.pid;
      const from = Date.now();
      steady.go();
      brief.go();
      await sleep(s.warmS * 1000);
      emit({ name: 'requests that failed before the outages', value: endedFailed(stage, from, Date.now()).length, unit: 'requests', bound: { atMost: 0 } });

      const redis = await outage(evidence, stage, 'Redis', s.outageS, () => stage.redis.stop(), () => stage.redis.restart());
      await sleep(s.recoverS * 1000);
      const influx = await outage(evidence, stage, 'InfluxDB', s.outageS, async () => void (await stage.influx.process.kill('SIGTERM')), async () => void (await stage.restartInflux()));
      await sleep(s.recoverS * 1000);
      const to = Date.now();
      await stopAll([steady, brief]);

      // the devices get `recoveryS` after an outage to be served again (a back-off of at most 3 s, a new channel)
      for (const window of [redis, influx]) judgeOutage(emit, stage, window, window === redis ? influx.down : to, s.recoveryS * 1000);
      // every revocation that fell due during an outage done afterwards (both outages, also the hub's retries)
      const due = [...redis.due, ...influx.due];
      let left = due.length;
      await waitUntil(
        'the revocations due during the outages',
        async () => (left = await stillHeld(evidence, stage, due)) === 0,
        s.settleS * 1000,
        250,
      ).catch(() => undefined);
      // revocations under way answer before the log is read
      await sleep(500);
      // a token deleted (204) and later asked to be deleted again (404): revoked twice
      const twice = [...deletes.values()].flatMap((answers) => {
        const first = answers.find((a) => a.status === 204);
        return first !== undefined && answers.some((a) => a.status === 404 && a.at >= first.at) ? [first] : [];
      });
      const lost = stage.record.eventsOf('lost');
      emit({ name: `leases lost (a device's lease unknown to the hub before its expiry; ${describeOutcomes(countBy(lost.map((e) => e.detail ?? '?')))})`, value: lost.length, unit: 'leases', bound: { atMost: 0 } });
      emit({ name: `revocations due during the outages not done ${s.settleS} s after the devices stopped`, value: left, unit: 'leases', bound: { atMost: 0 } });
      emit({ name: 'tokens deleted twice (a DELETE answered 404 after one answered 204, influxdb-local access log)', value: twice.length, unit: 'tokens', bound: { atMost: 0 } });
      emit({ name: 'DELETEs of tokens influxdb-local did not have (404)', value: [...deletes.values()].flat().filter((a) => a.status === 404).length, unit: 'requests' });
      emit({ name: 'hub restarts (the same hub process served throughout)', value: stage.hub.process.pid === hubPid && stage.hub.process.alive() ? 0 : 1, unit: 'restarts', bound: { atMost: 0 } });
    });
  },
};

/** Takes a dependency down for `seconds` and brings it back, noting which leases fell due meanwhile. */
async function outage(evidence: Evidence, stage: Stage, what: string, seconds: number, stop: () => Promise<void>, start: () => Promise<void>): Promise<OutageWindow> {
  const leases = await storedLeases(evidence, stage.redis.url, stage.influx);
  const down = Date.now();
  await stop();
  await sleep(Math.max(0, down + seconds * 1000 - Date.now()));
  await start();
  const up = Date.now();
  return { what, down, up, due: leases.filter((l) => Date.parse(l.expires) >= down && Date.parse(l.expires) < up).map((l) => l.id) };
}

/** The figures of one outage: how requests failed while it lasted, and how soon they stopped failing after. */
function judgeOutage(emit: Emit, stage: Stage, window: OutageWindow, until: number, recoveryMs: number): void {
  const { what, down, up } = window;
  // requests to the hub; the devices' own writes to a stopped InfluxDB fail as HTTP clients do (fetch failed)
  const during = failures(stage.record.select({ from: down, to: up, actions: LEASE_ACTIONS }));
  const writes = failures(stage.record.select({ from: down, to: up, actions: ['write'] }));
  const unanswered = during.filter(([, , code]) => code === 'TimeoutError').length;
  const other = during.filter(([, , code]) => code !== 'unavailable' && code !== 'TimeoutError');
  // failures after the outage that ended before the next one began
  const after = failures(stage.record.select({ from: up, to: until })).filter(([t, , , ms]) => t + ms < until);
  const lastEnd = Math.max(up, ...after.map(([t, , , ms]) => t + ms));
  emit({ name: `lease requests that failed during the ${what} outage (${describeOutcomes(outcomes(during))})`, value: during.length, unit: 'requests' });
  emit({ name: `writes to InfluxDB (by the devices, not through the hub) that failed during the ${what} outage`, value: writes.length, unit: 'requests' });
  emit({ name: `requests during the ${what} outage left unanswered past the client's ${REQUEST_TIMEOUT_MS / 1000} s timeout`, value: unanswered, unit: 'requests', bound: { atMost: 0 } });
  emit({ name: `failures during the ${what} outage with a code other than unavailable`, value: other.length, unit: 'requests', bound: { atMost: 0 } });
  emit({ name: `failure latency p99 during the ${what} outage`, value: latency(during).p99, unit: 'ms', bound: { atMost: REQUEST_TIMEOUT_MS } });
  emit({ name: `revocations that fell due during the ${what} outage`, value: window.due.length, unit: 'leases', bound: { atLeast: 1 } });
  emit({ name: `time from the end of the ${what} outage to the last failed request`, value: lastEnd - up, unit: 'ms' });
  const late = after.filter(([t]) => t >= up + recoveryMs);
  emit({ name: `requests that failed from ${recoveryMs / 1000} s after the ${what} outage (${describeOutcomes(outcomes(late))})`, value: late.length, unit: 'requests', bound: { atMost: 0 } });
}

/** Failed requests that started and ended in [from, to). */
function endedFailed(stage: Stage, from: number, to: number) {
  return failures(stage.record.select({ from, to })).filter(([t, , , ms]) => t + ms < to);
}

/** How many of `ids` are still in storage or still have their token in the cloud. */
async function stillHeld(evidence: Evidence, stage: Stage, ids: string[]): Promise<number> {
  const leases = new Set((await storedLeases(evidence, stage.redis.url, stage.influx)).map((l) => l.id));
  const tokens = new Set((await cloudTokens(evidence, stage.influx)).map((t) => t.id));
  return ids.filter((id) => leases.has(id) || tokens.has(id)).length;
}

/** How many times each string occurs. */
function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

async function stopAll(fleets: Fleet[]): Promise<void> {
  await Promise.all(fleets.map((f) => f.stop(true)));
}

export default scenario;
