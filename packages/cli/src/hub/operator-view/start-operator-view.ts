import { local, type Node } from '@tessera/core';
import { HUB_EVENTS_WORKER } from '@tessera/console';
import type { Authority, MemberStore } from '@tessera/authority';
import type { SecureChannelListener } from '@tessera/secure-channel';
import type { LeaseDecider, LeaseService } from '@tessera/token-lease';
import type { HubSecurity } from '../metrics.js';
import { HubEventsWorker } from './hub-events-worker.js';
import { IssueHistory } from './issue-history.js';
import type { LastSeen } from './last-seen.js';
import { OwnerDirectory, RenewalCounts } from './lease-summaries.js';
import { OperatorFeed } from './operator-feed.js';
import { operatorHealth } from './operator-health.js';
import { operatorSnapshot } from './operator-snapshot.js';
import { SnapshotReads } from './snapshot-reads.js';
import { Subscriptions } from './subscriptions.js';

/** The operator's view of a running hub: its subscriptions and feed. */
export interface OperatorView {
  subscriptions: Subscriptions;
  feed: OperatorFeed;
  /** Ends every subscription and stops listening (before the node stops). */
  stop(): void;
}

export interface OperatorViewParts {
  service: LeaseService;
  authority: Authority;
  members: MemberStore;
  channels: SecureChannelListener;
  decisions: LeaseDecider;
  lastSeen: LastSeen;
  security: HubSecurity;
}

/**
 * Starts the `hub_events` worker of a secure hub (docs/protocol.md §8) and the
 * feed behind it: admins subscribe through their secure channels and get a
 * snapshot, then events, back through the same channel.
 */
export async function startOperatorView(node: Node, parts: OperatorViewParts): Promise<OperatorView> {
  const { service, authority, members, channels } = parts;
  const clock = node.clock;
  const returnRoute = Object.freeze([local(HUB_EVENTS_WORKER)]);
  const subscriptions = new Subscriptions((route, event) => {
    const outcome = node.send(route, JSON.stringify(event), { returnRoute });
    return outcome === 'delivered' || outcome === 'sent';
  }, clock);
  const owners = new OwnerDirectory((identifier) => authority.membership(identifier), parts.decisions);
  const renewals = new RenewalCounts();
  const history = new IssueHistory();
  const health = () => operatorHealth(service, parts.security, clock);
  const feed = new OperatorFeed({ service, authority, members, owners, renewals, history, lastSeen: parts.lastSeen, subscriptions, health, clock, logger: node.logger.child({ component: 'hub_events' }) });
  feed.start();
  const reads = new SnapshotReads(() => operatorSnapshot({ service, members, owners, renewals, lastSeen: parts.lastSeen, history, health, now: () => clock.now() }));
  const snapshot = () => reads.get();
  const channelAt = (address: string) => channels.channels().find((c) => c.address.value === address);
  await node.startWorker(HUB_EVENTS_WORKER, new HubEventsWorker({ subscriptions, membership: (id) => authority.membership(id), channelAt, snapshot, logger: node.logger.child({ component: 'hub_events' }) }));
  return {
    subscriptions,
    feed,
    stop() {
      feed.stop();
      subscriptions.endAll();
    },
  };
}
