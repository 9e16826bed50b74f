import type { Clock } from '@tessera/core';
import type { HubHealth } from '@tessera/console';
import type { LeaseService } from '@tessera/token-lease';
import { healthWarnings, type HubSecurity } from '../metrics.js';

/** Milliseconds the storage has to answer the health look before it counts as unavailable. */
const PROBE_TIMEOUT = 2_000;

/**
 * The hub's health as the operator's view shows it (docs/protocol.md §8):
 * whether the lease storage answers now (one `count`, bounded in time), what it
 * keeps across a restart, expiry lateness, and /health's warnings.
 */
export async function operatorHealth(service: LeaseService, security: HubSecurity, clock: Clock): Promise<HubHealth> {
  const durability = service.storage.durability?.();
  const stats = service.stats();
  return {
    storage: (await storageAnswers(service, clock)) ? 'ok' : 'unavailable',
    storageName: service.storage.name.slice(0, 64),
    persistence: durability === undefined ? null : { persists: durability.persists ?? 'unknown', detail: durability.detail.slice(0, 512) },
    latenessP99: stats.lateness.p99,
    revocationFailures: stats.revocationFailures,
    insecure: security.insecure,
    warnings: healthWarnings(service, security).slice(0, 16).map((w) => w.slice(0, 1024)),
  };
}

async function storageAnswers(service: LeaseService, clock: Clock): Promise<boolean> {
  let timer: unknown;
  const late = new Promise<false>((resolve) => (timer = clock.setTimeout(() => resolve(false), PROBE_TIMEOUT)));
  try {
    return await Promise.race([service.storage.count().then(() => true, () => false), late]);
  } finally {
    clock.clearTimeout(timer);
  }
}
