import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineError, type Logger } from '@tessera/core';
import { Ed25519Identity } from '@tessera/secure-channel';
import { HubConfigSchema } from '../hub/hub-config.js';
import { type Hub, startHub } from '../hub/start-hub.js';

/** The hub came up without its identity, authority and channel listener: the demo would not be secure. */
export const DemoHubNotSecureError = defineError('DemoHubNotSecureError', 'DEMO_HUB_NOT_SECURE');

/** The demo's hub, secure as `tessera hub` is by default, and the identity of its operator. */
export interface DemoHub {
  hub: Hub;
  secure: NonNullable<Hub['secure']>;
  /** The operator's identity (in memory only), named an admin in the hub's settings (`admin`): it revokes leases from outside, through a secure channel of its own. */
  operator: Ed25519Identity;
  /** Stops the hub. */
  stop(): Promise<void>;
}

export interface DemoHubSettings {
  ttl: number;
  maxTtl: number;
}

/**
 * Starts a secure hub for the demo: an identity made in a private directory
 * of its own (mode 0700, the file 0600), removed as soon as the hub has read
 * it, so the demo leaves no key behind; members in memory; the operator named
 * admin. Devices join with one-use bootstrap tokens from its authority.
 */
export async function startDemoHub(settings: DemoHubSettings, logger: Logger): Promise<DemoHub> {
  const operator = Ed25519Identity.generate();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-demo-'));
  let hub: Hub;
  try {
    hub = await startHub(
      HubConfigSchema.parse({
        listen: '127.0.0.1:0',
        identity: join(dir, 'hub-identity.json'),
        admin: [operator.identifier],
        defaultTtl: settings.ttl,
        minTtl: Math.min(500, settings.ttl),
        maxTtl: settings.maxTtl,
        logLevel: 'silent',
      }),
      logger,
    );
  } finally {
    // the hub holds its key in memory from here on: the file goes, whether it started or not
    await rm(dir, { recursive: true, force: true });
  }
  const secure = hub.secure;
  if (secure === undefined) {
    await hub.stop();
    throw new DemoHubNotSecureError('the demo hub started without its identity, authority and secure-channel listener');
  }
  return { hub, secure, operator, stop: () => hub.stop() };
}
