// Crash: the hub is killed (SIGKILL) under load and started again with the same identity on
// the same Redis. Devices of a `steady` fleet hold leases across the crash (60 s, renewed);
// devices of a `brief` fleet leave 2 s leases to expire, so some fall due while the hub is
// down. Storage and cloud are read directly at the kill and after the restart: no lease lost,
// every overdue one revoked at start, no token left without a lease once the hub has
// reconciled, every device back on its lease with no new enrollment.
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@tessera/testing';
import { describeOutcomes, devicesOf, failures, outcomes } from '../fleet/fleet-record.js';
import { cloudTokens, storedLeases } from '../fleet/ground-truth.js';
import { withStage } from '../fleet/stage.js';
import { readHubMetrics } from '../hub-metrics.js';
import type { Scenario } from '../scenario.js';

const SIZES = {
  full: { steady: 900, brief: 100, processes: 4, beforeS: 20, downS: 5, afterS: 25, thinkMs: [2_000, 6_000] as [number, number], requestTimeout: 5_000 },
  ci: { steady: 40, brief: 10, processes: 1, beforeS: 3, downS: 3, afterS: 7, thinkMs: [200, 800] as [number, number], requestTimeout: 3_000 },
};
/** The restarted hub's orphan grace: one hub alone on its storage, so no other hub can be between a create and its save. */
const ORPHAN_GRACE_MS = 2_000;
/** Time the devices get after the restart to be served again: a request on the dead channel times out (5 s at most), a back-off (at most 3 s), a new channel. */
const RECOVERY_MS = 5_000;
/** How long after the restart every overdue lease must be revoked ("at start"). */
const OVERDUE_WITHIN_MS = 10_000;
const LEASE_ACTIONS = ['create', 'get', 'renew', 'revoke'] as const;

const scenario: Scenario = {
  name: 'crash',
  description:
    'The hub is killed (SIGKILL) under load and restarted with the same identity on the same Redis: leases lost, overdue leases revoked at start, orphan tokens after reconciliation, devices back on their leases without enrolling again.',
  async run(size, emit, evidence) {
    const s = SIZES[size];
    await withStage(evidence, { hubArgs: ['--orphan-grace', String(ORPHAN_GRACE_MS)] }, async (stage) => {
      const maxMs = (s.beforeS + s.downS + s.afterS + 180) * 1000;
      const steady = await stage.fleet({
        name: 'steady',
        devices: s.steady,
        processes: s.processes,
        behaviour: { kind: 'lifecycle', ttl: 60_000, renewals: 3, end: 'revoke', thinkMs: s.thinkMs, write: true },
        requestTimeout: s.requestTimeout,
        maxMs,
      });
      const brief = await stage.fleet({
        name: 'brief',
        first: s.steady,
        devices: s.brief,
        processes: 1,
        behaviour: { kind: 'lifecycle', ttl: 2_000, renewals: 0, end: 'expire', thinkMs: [200, 600], write: false },
        requestTimeout: s.requestTimeout,
        maxMs,
      });
      const fleet = steady.ready + brief.ready;
      const from = Date.now();
      steady.go();
      brief.go();
      await sleep(s.beforeS * 1000);

      const killedAt = Date.now();
      await stage.hub.process.kill('SIGKILL');
      const atKill = await storedLeases(evidence, stage.redis.url, stage.influx);
      const held = new Set(atKill.map((l) => l.id));
      const unheldAtKill = (await cloudTokens(evidence, stage.influx)).filter((t) => !held.has(t.id)).length;
      await sleep(Math.max(0, killedAt + s.downS * 1000 - Date.now()));
      const restartedAt = Date.now();
      const overdue = atKill.filter((l) => Date.parse(l.expires) < restartedAt);
      await stage.restartHub();
      const readyAt = Date.now();

      // every overdue lease revoked at start: gone from storage, its token gone from the cloud
      let overdueLeft = overdue.length;
      const stillThere = async (): Promise<number> => {
        const leases = new Set((await storedLeases(evidence, stage.redis.url, stage.influx)).map((l) => l.id));
        const tokens = new Set((await cloudTokens(evidence, stage.influx)).map((t) => t.id));
        return overdue.filter((l) => leases.has(l.id) || tokens.has(l.id)).length;
      };
      await waitUntil('every overdue lease revoked', async () => (overdueLeft = await stillThere()) === 0, OVERDUE_WITHIN_MS, 100).catch(() => undefined);
      const overdueDoneMs = Date.now() - readyAt;

      // orphans: tokens made before the kill that no lease references, once the restarted hub has reconciled
      await waitUntil('the restarted hub to reconcile', async () => ((await readHubMetrics(stage.hub.metricsUrl)).get('tessera_reconciliations_total') ?? 0) >= 1, 30_000, 200);
      const leasesNow = new Set((await storedLeases(evidence, stage.redis.url, stage.influx)).map((l) => l.id));
      const orphans = (await cloudTokens(evidence, stage.influx)).filter((t) => t.created < killedAt && !leasesNow.has(t.id)).length;

      await sleep(Math.max(0, readyAt + s.afterS * 1000 - Date.now()));
      const to = Date.now();
      const metrics = await readHubMetrics(stage.hub.metricsUrl);
      await Promise.all([steady.stop(true), brief.stop(true)]);

      const duringOutage = failures(stage.record.select({ from: killedAt - s.requestTimeout, to: readyAt })).filter(([t, , , ms]) => t + ms >= killedAt);
      const afterRestart = stage.record.select({ from: readyAt, to });
      const failedAfter = failures(afterRestart);
      const lastFailureEnd = Math.max(readyAt, ...failures(stage.record.select({ from: killedAt, to })).map(([t, , , ms]) => t + ms));
      const failedLate = failedAfter.filter(([t]) => t >= readyAt + RECOVERY_MS);
      emit({ name: 'devices connected (each enrolled once, its own identity)', value: fleet, unit: 'devices', bound: { atLeast: s.steady + s.brief } });
      const failedBefore = failures(stage.record.select({ from, to: killedAt })).filter(([t, , , ms]) => t + ms < killedAt);
      emit({ name: 'requests that failed before the kill', value: failedBefore.length, unit: 'requests', bound: { atMost: 0 } });
      emit({ name: `requests that failed while the hub was down or in flight at the kill (${describeOutcomes(outcomes(duringOutage))})`, value: duringOutage.length, unit: 'requests' });
      emit({ name: 'leases held in storage at the kill', value: atKill.length, unit: 'leases' });
      emit({ name: 'tokens without a lease at the kill (creates the kill cut short)', value: unheldAtKill, unit: 'tokens' });
      emit({ name: 'leases lost (a device\'s lease unknown to the hub before its expiry)', value: stage.record.eventsOf('lost').length, unit: 'leases', bound: { atMost: 0 } });
      // at least one, or the check below proves nothing
      emit({ name: 'leases overdue when the hub restarted', value: overdue.length, unit: 'leases', bound: { atLeast: 1 } });
      emit({ name: `overdue leases not revoked within ${OVERDUE_WITHIN_MS / 1000} s of the restart`, value: overdueLeft, unit: 'leases', bound: { atMost: 0 } });
      emit({ name: 'time from the restart until every overdue lease was revoked', value: overdueLeft === 0 ? overdueDoneMs : NaN, unit: 'ms' });
      emit({ name: 'orphan tokens (made before the kill, no lease) after the restarted hub reconciled', value: orphans, unit: 'tokens', bound: { atMost: 0 } });
      emit({ name: 'orphan tokens the restarted hub revoked', value: metrics.get('tessera_orphans_revoked_total') ?? NaN, unit: 'tokens' });
      emit({
        name: 'devices with a successful lease request after the restart',
        value: devicesOf(stage.record.select({ from: readyAt, to, ok: true, actions: LEASE_ACTIONS })).size,
        unit: 'devices',
        bound: { atLeast: s.steady + s.brief },
      });
      emit({ name: 'devices that failed during the outage and went on with the same lease', value: new Set(stage.record.eventsOf('resumed', killedAt).map((e) => e.device)).size, unit: 'devices' });
      emit({
        name: 'enrollments after the kill (devices and the restarted hub counted)',
        value: stage.record.eventsOf('enrolled', killedAt).length + metrics.need('tessera_stranger_channels', { state: 'enrolled' }),
        unit: 'enrollments',
        bound: { atMost: 0 },
      });
      emit({ name: 'time from the restart until the last failed request ended', value: lastFailureEnd - readyAt, unit: 'ms' });
      emit({ name: `requests that failed from ${RECOVERY_MS / 1000} s after the restart`, value: failedLate.length, unit: 'requests', bound: { atMost: 0 } });
    });
  },
};

export default scenario;
