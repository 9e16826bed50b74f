import type { Node } from '@tessera/core';
import type { Authority } from '@tessera/authority';
import { type Ed25519Identity, type SecureChannelListener, startSecureChannelListener } from '@tessera/secure-channel';
import { hubTrust } from './hub-trust.js';
import { StrangerGuard } from './stranger-guard.js';

/** Bounds on a hub's secure channels. */
export interface HubChannelLimits {
  /** Channels held at once, members' and strangers' (the listener's bound), half-open handshakes included. */
  maxChannels: number;
  /** Channels of one identity held at once: one member (or a thief of its identity file) cannot take them all. */
  maxChannelsPerIdentity: number;
  /**
   * Milliseconds a channel may stay quiet before the hub closes it. A device
   * renews its lease and refreshes its credential well within this with the
   * default TTLs, and opens a new channel on its next request after a close.
   */
  idleTimeout: number;
  /** Channels of peers that are not members, held at once; a new one over the budget takes the place of the oldest. */
  maxStrangers: number;
  /** Milliseconds a stranger's channel stays open unless its peer enrolls meanwhile. */
  strangerGrace: number;
}

/** What `tessera hub` uses. */
export const HUB_CHANNEL_LIMITS: Readonly<HubChannelLimits> = Object.freeze({
  maxChannels: 10_000,
  maxChannelsPerIdentity: 64,
  idleTimeout: 3_600_000,
  maxStrangers: 1_024,
  strangerGrace: 60_000,
});

/** A hub's secure-channel listener and the guard that bounds strangers' channels. */
export interface HubChannels {
  listener: SecureChannelListener;
  strangers: StrangerGuard;
}

/**
 * Starts the hub's secure-channel listener (docs/protocol.md §5): credentials
 * verified under the hub's key (hubTrust), quiet channels closed after
 * `idleTimeout`, and non-members' channels bounded by a StrangerGuard asking
 * the authority's live membership.
 */
export async function startHubChannels(
  node: Node,
  options: { identity: Ed25519Identity; authority: Pick<Authority, 'membership'>; limits?: Partial<HubChannelLimits> },
): Promise<HubChannels> {
  const limits = { ...HUB_CHANNEL_LIMITS, ...options.limits };
  const strangers = new StrangerGuard({
    isMember: async (identifier) => (await options.authority.membership(identifier)) !== undefined,
    clock: node.clock,
    maxStrangers: limits.maxStrangers,
    grace: limits.strangerGrace,
  });
  const listener = await startSecureChannelListener(node, {
    identity: options.identity,
    trust: hubTrust(options.identity.publicKey),
    maxChannels: limits.maxChannels,
    maxChannelsPerIdentity: limits.maxChannelsPerIdentity,
    idleTimeout: limits.idleTimeout,
    onChannel: strangers.watch,
  });
  return { listener, strangers };
}
