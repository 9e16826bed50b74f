// Long run: devices take short leases (10 s at full size), renew each once and leave it to
// expire, for a long time: thousands of expiries and renewals. Every lease must be revoked on
// time (the hub's expiry lateness), none left behind once the devices stop, the hub's memory
// flat, and its file descriptors and timers back where they were once the devices are gone.
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync } from 'node:fs';
import { waitUntil } from '@tessera/testing';
import { describeOutcomes, failures, outcomes } from '../fleet/fleet-record.js';
import { cloudTokens, storedLeases } from '../fleet/ground-truth.js';
import { withStage } from '../fleet/stage.js';
import { type HubMetrics, readHubMetrics } from '../hub-metrics.js';
import { RssSampler } from '../rss-sampler.js';
import type { Scenario } from '../scenario.js';

const SIZES = {
  full: { devices: 200, processes: 2, seconds: 30 * 60, ttl: 10_000, thinkMs: [1_000, 3_000] as [number, number], windowS: 60 },
  ci: { devices: 30, processes: 1, seconds: 12, ttl: 3_000, thinkMs: [300, 900] as [number, number], windowS: 3 },
};
/**
 * Expiry lateness (expiry → revocation) allowed at p99. The hub sleeps until the earliest due
 * time, at most 1 s (to notice other hubs' leases), then claims and revokes what is due: one
 * cloud DELETE and one storage removal, a few ms each. 1 s covers a full sleep plus a busy
 * moment; lateness past it means revocations queue up.
 */
const LATENESS_P99_MS = 1_000;
/**
 * RSS growth allowed from the window after warm-up to the last one: heap the collector has
 * not given back yet, a few MiB either way. A leak of 1 KiB per lease would be ~40 MiB over
 * the full run's ~40,000 leases.
 */
const GROWTH_MIB = 16;
/**
 * File descriptors the idle hub may hold beyond its count before the devices came: sockets of
 * the InfluxDB client's keep-alive pool, opened under load and closed only when idle long
 * enough (their number depends on how many requests overlapped, not on how many leases).
 */
const FD_SLACK = 10;

const scenario: Scenario = {
  name: 'long-run',
  description:
    'Devices take short leases, renew each once and leave it to expire, for a long time: expiry lateness, leases left behind, the hub’s memory, file descriptors and timers at start and end.',
  async run(size, emit, evidence) {
    const s = SIZES[size];
    await withStage(evidence, {}, async (stage) => {
      const hubPid = stage.hub.process.pid;
      // the hub idle, the admin's channel open: what the hub holds with no device
      await stage.admin.createToken({ role: 'warm-up' }, 1);
      const idle = await holdings(stage.hub.metricsUrl, hubPid);
      const fleet = await stage.fleet({
        name: 'long-run',
        devices: s.devices,
        processes: s.processes,
        behaviour: { kind: 'lifecycle', ttl: s.ttl, renewals: 1, end: 'expire', thinkMs: s.thinkMs, write: false },
        maxMs: (s.seconds + 300) * 1000,
      });
      const rss = new RssSampler(() => hubPid, 1_000);
      try {
        const from = Date.now();
        fleet.go();
        await sleep(s.seconds * 1000);
        const to = Date.now();
        const busy = await holdings(stage.hub.metricsUrl, hubPid);
        await fleet.stop(false);
        // the devices are gone; their last leases expire within a ttl, and are revoked then
        let left = NaN;
        await waitUntil(
          'every lease revoked',
          async () => (left = (await storedLeases(evidence, stage.redis.url, stage.influx)).length + (await cloudTokens(evidence, stage.influx)).length) === 0,
          s.ttl + 30_000,
          250,
        ).catch(() => undefined);
        rss.stop();
        // let the sockets of the devices that left close on the hub's side
        const connections = async (): Promise<number> => (await readHubMetrics(stage.hub.metricsUrl)).get('tessera_ws_connections', { direction: 'incoming' }) ?? NaN;
        await waitUntil('the devices’ connections closed', async () => (await connections()) <= idle.connections, 30_000, 250).catch(() => undefined);
        const end = await holdings(stage.hub.metricsUrl, hubPid);
        const metrics = end.metrics;

        const window = s.windowS * 1000;
        const warm = from + (to - from) / 3;
        const failed = failures(stage.record.select({ from, to }));
        const renewals = stage.record.select({ from, to, actions: ['renew'], ok: true }).length;
        emit({ name: 'devices connected (each enrolled once, its own identity)', value: fleet.ready, unit: 'devices', bound: { atLeast: s.devices } });
        emit({ name: `requests that failed (${describeOutcomes(outcomes(failed))})`, value: failed.length, unit: 'requests', bound: { atMost: 0 } });
        emit({ name: `leases revoked at expiry or on request (ttl ${s.ttl / 1000} s)`, value: metrics.need('tessera_leases_revoked_total'), unit: 'leases' });
        emit({ name: 'renewals', value: renewals, unit: 'renewals' });
        emit({ name: 'expiry lateness p50 (expiry to revocation, the hub’s last 10,000)', value: metrics.need('tessera_expiry_lateness_ms', { quantile: '0.5' }), unit: 'ms' });
        emit({ name: 'expiry lateness p99 (expiry to revocation, the hub’s last 10,000)', value: metrics.need('tessera_expiry_lateness_ms', { quantile: '0.99' }), unit: 'ms', bound: { atMost: LATENESS_P99_MS } });
        emit({ name: 'expiry lateness max', value: metrics.need('tessera_expiry_lateness_ms', { quantile: '1' }), unit: 'ms' });
        emit({ name: 'leases lost (a device\'s lease unknown to the hub before its expiry)', value: stage.record.eventsOf('lost').length, unit: 'leases', bound: { atMost: 0 } });
        emit({ name: 'leases or tokens left once the devices stopped and a ttl passed', value: left, unit: 'leases', bound: { atMost: 0 } });
        emit({ name: 'hub RSS once warm (a third in)', value: rss.meanMiB(warm, warm + window), unit: 'MiB' });
        emit({ name: 'hub RSS at the end of the run', value: rss.meanMiB(to - window, to + 1), unit: 'MiB' });
        emit({ name: `hub RSS growth once warm (mean over the last ${s.windowS} s minus mean over ${s.windowS} s a third in)`, value: rss.meanMiB(to - window, to + 1) - rss.meanMiB(warm, warm + window), unit: 'MiB', bound: { atMost: GROWTH_MIB } });
        emit({ name: 'hub file descriptors, idle before the devices came', value: idle.fds, unit: 'fds' });
        emit({ name: 'hub file descriptors at the end of the run (devices connected)', value: busy.fds, unit: 'fds' });
        emit({ name: 'hub file descriptors, idle after the devices left, minus before they came', value: end.fds - idle.fds, unit: 'fds', bound: { atMost: FD_SLACK } });
        emit({ name: 'hub timers (active Timeout resources), idle before the devices came', value: idle.timers, unit: 'timers' });
        emit({ name: 'hub timers at the end of the run (devices connected)', value: busy.timers, unit: 'timers' });
        emit({ name: 'hub timers, idle after the devices left, minus before they came', value: end.timers - idle.timers, unit: 'timers', bound: { atMost: 0 } });
      } finally {
        rss.stop();
      }
    });
  },
};

interface Holdings {
  /** Open file descriptors, counted in /proc/<pid>/fd. */
  fds: number;
  /** Active Timeout resources (process.getActiveResourcesInfo(), through the hub's metrics). */
  timers: number;
  /** Incoming WebSocket connections. */
  connections: number;
  metrics: HubMetrics;
}

/** What the hub holds now: file descriptors and timers. */
async function holdings(metricsUrl: string, pid: number): Promise<Holdings> {
  const metrics = await readHubMetrics(metricsUrl);
  return {
    fds: readdirSync(`/proc/${pid}/fd`).length,
    // no series: no timer at all
    timers: metrics.get('tessera_nodejs_active_resources', { type: 'Timeout' }) ?? 0,
    connections: metrics.need('tessera_ws_connections', { direction: 'incoming' }),
    metrics,
  };
}

export default scenario;
