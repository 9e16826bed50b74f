import { InfluxDB } from '@influxdata/influxdb-client';
import { AuthorizationsAPI } from '@influxdata/influxdb-client-apis';
import { type Logger, silentLogger } from '@tessera/core';
import { Device, resolveDeviceOptions } from '@tessera/device';
import { Ed25519Identity } from '@tessera/secure-channel';
import { type DemoEvent, type DemoSnapshot, type DemoSummary, seconds, shortId } from './demo-event.js';
import { type DemoHub, startDemoHub } from './demo-hub.js';
import { DemoOperator, type OperatorAct } from './operator.js';
import { OperatorConsole } from './operator-console.js';
import { type DemoConsoleListen, startDemoConsole } from './demo-console.js';
import { StatusView } from './status-view.js';
import { TimelineView } from './timeline-view.js';
import { showRelayLine } from './relay-line.js';

export interface DemoOptions {
  /** Seconds until the demo ends by itself; none: until `signal` aborts. */
  duration?: number;
  devices: number;
  /** Lease TTL the devices ask for (ms). */
  ttl: number;
  /** The hub's maximum TTL (ms): leases reach it and are replaced. */
  maxTtl: number;
  /** Milliseconds between a device's points. */
  interval: number;
  /** Seconds between the operator's acts after the first two (a revocation from outside, then a deactivation, in turn). */
  revokeEvery: number;
  out: { write(text: string): unknown };
  /** Redraw a status view in place (a terminal) or print a timeline. */
  tty: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** Where to serve the operator's web console (default 127.0.0.1:8080, another port when taken); false: none. */
  console?: DemoConsoleListen;
}

const MEASUREMENT = 'device_metrics';

/**
 * The whole mission in one process: an influxdb-local, a secure hub and
 * devices with short TTLs. Each device has its own identity, joins the hub
 * once with a one-use bootstrap token and sends every lease request through a
 * secure channel; leases are issued, renewed, expired and revoked. Within
 * seconds the operator, an admin with a channel of its own, revokes one
 * device's lease from outside (its next write meets a 401) and deactivates
 * another's token in InfluxDB (a 403); each device reports the lease, gets a
 * new one and replays. Then one act every `revokeEvery` seconds. No token,
 * bootstrap token or key is ever shown, and no key stays on disk.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const logger = options.logger ?? silentLogger;
  const demoHub = await startDemoHub({ ttl: options.ttl, maxTtl: options.maxTtl }, logger);
  const { hub, secure } = demoHub;
  const operatorConsole = new OperatorConsole({ hub: hub.listener.url, hubIdentifier: secure.identifier, identity: demoHub.operator, logger });
  const devices: Device[] = [];
  const extras: (() => Promise<void>)[] = [];
  let summary: DemoSummary;
  try {
    // the web page for the same hub, as the same operator: a newcomer watches the mission in a browser too
    const listen = options.console ?? { host: '127.0.0.1', port: 8080 };
    const nextLink: { show?: (url: string) => void } = {};
    const web =
      listen === false
        ? undefined
        : await startDemoConsole(listen, { url: hub.listener.url, identifier: secure.identifier }, demoHub.operator, (url) => nextLink.show?.(url), logger);
    if (web !== undefined) extras.push(() => web.stop());
    summary = await runMission(options, { hub, secure, operatorConsole, operatorIdentifier: demoHub.operator.identifier, devices, extras, elapsed, logger, web, nextLink });
  } finally {
    await Promise.allSettled(extras.map((stop) => stop()));
    await Promise.allSettled(devices.map((d) => d.stop()));
    await operatorConsole.close();
    await demoHub.stop();
  }
  return summary;
}

interface MissionParts {
  hub: DemoHub['hub'];
  secure: DemoHub['secure'];
  operatorConsole: OperatorConsole;
  operatorIdentifier: string;
  /** Filled as devices start; runDemo stops what is left of them. */
  devices: Device[];
  /** Other parts to stop at the end (the relay line's nodes). */
  extras: (() => Promise<void>)[];
  elapsed: () => number;
  logger: Logger;
  /** The operator's web console, when the demo serves one. */
  web: { url: string; loginUrl: string } | undefined;
  /** Set by the mission: how a next login link is shown, once one is used. */
  nextLink: { show?: (url: string) => void };
}

async function runMission(options: DemoOptions, parts: MissionParts): Promise<DemoSummary> {
  const { hub, secure, operatorConsole, devices, elapsed, logger } = parts;
  const influx = hub.influx!;
  const view = options.tty ? new StatusView(options.out) : new TimelineView(options.out);
  const recent: DemoEvent[] = [];
  const tally = { issued: 0, renewed: 0, expired: 0, revokedOnRequest: 0, outside: 0, deactivated: 0, enrolled: 0 };
  const met = new Map<string, { unauthorized: number; forbidden: number }>(); // device id → 401s and 403s it met
  const show = (source: string, kind: DemoEvent['kind'], text: string) => {
    const e: DemoEvent = { at: elapsed(), source, kind, text };
    recent.push(e);
    if (recent.length > 8) recent.shift();
    view.event(e);
  };

  const owners = new Map<string, string>(); // lease id → device id
  const held = new Map<string, { id: string; expires: number }>(); // device id → its lease, renewals included
  const named = new Map<string, string>(); // identifier → device id
  const identifiers: string[] = []; // by device number - 1
  const deviceIdentities: Ed25519Identity[] = []; // the same order
  const who = (id: string) => owners.get(id) ?? 'a device';
  hub.service.on('created', (e) => {
    tally.issued++;
    show('hub', 'issued', `lease ${shortId(e.id)} issued to ${named.get(e.owner) ?? 'a member'} (${shortId(e.owner)}), ttl ${seconds(e.ttl)}`);
  });
  secure.authority.on('enrolled', () => tally.enrolled++);
  operatorConsole.onChannel((to) =>
    show('operator', 'secure', `secure channel open to hub ${shortId(to)} as ${shortId(parts.operatorIdentifier)}, an admin in the hub's settings (no member, no token)`),
  );
  hub.service.on('renewed', (e) => {
    tally.renewed++;
    show('hub', 'renewed', `lease ${shortId(e.id)} of ${who(e.id)} renewed, now expires in ${seconds(Date.parse(e.expires) - Date.now())}`);
  });
  hub.service.on('revoked', (e) => {
    if (e.reason === 'expired') {
      tally.expired++;
      show('hub', 'expired', `lease ${shortId(e.id)} of ${who(e.id)} expired → token revoked (${e.lateness ?? 0} ms after expiry)`);
    } else {
      tally.revokedOnRequest++;
      show('hub', 'revoked', `lease ${shortId(e.id)} of ${who(e.id)} revoked on request`);
    }
  });

  view.start([
    `tessera demo: a hub, an InfluxDB and ${options.devices} devices, leases of ${seconds(options.ttl)} (max ${seconds(options.maxTtl)})`,
    `hub ${hub.listener.url} (identity ${shortId(secure.identifier)}, secure: each device enrolls once with a one-use bootstrap token; lease requests only through secure channels)`,
    `influxdb-local ${influx.url} (org ${influx.org}, bucket ${influx.bucket})`,
    `points read back: GET ${influx.url}/api/v2/local/points?org=${influx.org}&bucket=${influx.bucket}`,
    ...(parts.web === undefined ? [] : [`operator's web console ${parts.web.url}: log in once with ${parts.web.loginUrl}`]),
    options.duration === undefined ? 'Ctrl-C ends it with a summary.' : `ends by itself after ${options.duration} s with a summary.`,
  ]);
  parts.nextLink.show = (url) => show('demo', 'info', `console login link used; for another browser: ${url}`);

  // what anything without a channel gets
  const refusal = await operatorConsole.plaintextRefusal();
  show('demo', 'secure', `a lease request sent without a secure channel is refused: ${refusal.code}`);

  const authorizations = new AuthorizationsAPI(new InfluxDB({ url: influx.url, token: influx.token }));
  const operator = new DemoOperator(
    {
      interval: options.interval,
      ttl: options.ttl,
      // as `tessera lease revoke ID --identity <admin>`: from outside every device, through the operator's own secure channel
      revoke: async (leaseId) => {
        await operatorConsole.revoke(leaseId);
        tally.outside++;
      },
      // what an operator does in the InfluxDB UI or with `influx auth inactive`: the token stays, refused (403)
      deactivate: async (leaseId) => {
        await authorizations.patchAuthorizationsID({ authID: leaseId, body: { status: 'inactive' } });
        tally.deactivated++;
      },
      show: (text) => show('operator', 'outside', text),
    },
    () => devices.length,
  );
  for (let i = 1; i <= options.devices; i++) {
    const id = `device-${i}`;
    // its own identity, in memory; a bootstrap token it redeems once (never shown: only its reference)
    const identity = Ed25519Identity.generate();
    deviceIdentities.push(identity);
    named.set(identity.identifier, id);
    identifiers.push(identity.identifier);
    // device-1 also keeps a relay at the hub: a secure hub gives a relay name only to a member whose `relay` attribute allows it
    const made = await secure.authority.createToken({ attributes: i === 1 ? { role: 'device', relay: id } : { role: 'device' } });
    show('hub', 'secure', `bootstrap token ${made.reference} made for ${id} (role=device, one use)`);
    const device = new Device(
      resolveDeviceOptions({
        hub: hub.listener.url,
        deviceId: id,
        influxUrl: influx.url,
        org: influx.org,
        bucket: influx.bucket,
        interval: options.interval,
        ttl: options.ttl,
        measurement: MEASUREMENT,
        identity,
        enrollToken: made.token,
        hubIdentifier: secure.identifier,
        logger,
      }),
    );
    devices.push(device);
    const counts = { unauthorized: 0, forbidden: 0 };
    met.set(id, counts);
    device.on('enrolled', (e) => {
      const attributes = Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(' ');
      show(id, 'secure', `enrolled as ${shortId(e.identifier)} (${attributes}): its bootstrap token is spent, its identity is what the hub knows`);
    });
    device.on('channel', (e) => show(id, 'secure', `secure channel open to hub ${shortId(e.hub)}: every lease request goes through it`));
    device.on('lease', ({ lease, reason }) => {
      owners.set(lease.id, id);
      held.set(id, { id: lease.id, expires: Date.parse(lease.expires) });
      operator.leaseHeld(id, lease);
      if (reason !== 'renewed') show(id, 'info', `now holds lease ${shortId(lease.id)} (${reason})`);
    });
    device.on('point-written', (p) => operator.written(id, p.leaseId));
    device.on('auth-failure', (e) => {
      if (e.status === 401) counts.unauthorized++;
      else counts.forbidden++;
      operator.authFailure(e.leaseId);
      const why = e.status === 401 ? 'the token is gone' : 'the token is inactive';
      show(id, 'auth-failure', `InfluxDB answered ${e.status} to lease ${shortId(e.leaseId)} (${why}): reporting it, ${e.points} point(s) to replay`);
    });
    device.on('token-swapped', (e) => show(id, 'swapped', `token swapped ${shortId(e.from)} → ${shortId(e.to)}; writes go on`));
    device.on('point-lost', (e) => show(id, 'info', `point ${e.seq} LOST: ${e.reason}`));
    await device.start();
  }

  // the operator looks at who joined, as `tessera enroll members` does: through its own channel, as an admin
  const members = (await operatorConsole.members()).sort((a, b) => (named.get(a.identifier) ?? '').localeCompare(named.get(b.identifier) ?? ''));
  const roles = [...new Set(members.map((m) => m.attributes['role'] ?? '-'))].join(', ');
  // a device behind NAT: device-1 keeps a relay at the hub, and the operator reaches a worker of it through the relay
  const first = devices[0];
  if (first !== undefined) {
    const line = await showRelayLine({
      hubUrl: hub.listener.url,
      hubIdentifier: secure.identifier,
      identity: deviceIdentities[0]!,
      deviceId: first.deviceId,
      status: () => `${first.deviceId}: ${first.stats().pointsWritten} points written, ${first.stats().pointsLost} lost`,
      show: (source, text) => show(source, 'secure', text),
      logger,
    });
    parts.extras.push(() => line.stop());
  }
  show('operator', 'secure', `lists the hub's members: ${members.map((m) => `${named.get(m.identifier) ?? '?'} ${shortId(m.identifier)}`).join(', ')} (role ${roles})`);

  // one of each at once, so every run shows both within seconds; then one act every revokeEvery seconds, in turn
  operator.plan('revoke');
  operator.plan('deactivate');
  let next: OperatorAct = 'revoke';
  const actTimer = setInterval(() => {
    operator.plan(next);
    next = next === 'revoke' ? 'deactivate' : 'revoke';
  }, options.revokeEvery * 1000);
  const snapshot = (): DemoSnapshot => {
    const lateness = hub.service.stats().lateness;
    return {
      elapsed: elapsed(),
      hubUrl: hub.listener.url,
      influxUrl: influx.url,
      devices: devices.map((d, i) => {
        const s = d.stats();
        const lease = held.get(`device-${i + 1}`);
        return {
          id: `device-${i + 1}`,
          identifier: identifiers[i] ?? '-',
          lease: lease?.id ?? '-',
          expires: lease?.expires,
          written: s.pointsWritten,
          met401: met.get(`device-${i + 1}`)?.unauthorized ?? 0,
          met403: met.get(`device-${i + 1}`)?.forbidden ?? 0,
          leases: s.leasesUsed,
          lost: s.pointsLost,
        };
      }),
      hub: { ...tally, latenessP99: lateness.p99 },
      secure: { hub: secure.identifier, enrolled: tally.enrolled, channelsOpen: secure.channels.stats().channels, channelsOpened: secure.channels.stats().accepted },
      recent: [...recent],
    };
  };
  const redraw = options.tty ? setInterval(() => (view as StatusView).draw(snapshot()), 250) : undefined;

  await new Promise<void>((resolve) => {
    // Ctrl-C while the devices were enrolling ends it now
    if (options.signal?.aborted === true) return resolve();
    const end = options.duration === undefined ? undefined : setTimeout(resolve, options.duration * 1000);
    options.signal?.addEventListener('abort', () => {
      if (end) clearTimeout(end);
      resolve();
    });
  });

  clearInterval(actTimer);
  operator.stop();
  if (redraw) clearInterval(redraw);
  if (options.tty) (view as StatusView).draw(snapshot());
  const stats = [];
  for (const d of devices) {
    await d.stop();
    stats.push(d.stats());
  }
  const pointsWritten = stats.reduce((n, s) => n + s.pointsWritten, 0);
  const pointsInInfluxdb = influx.countPoints({ bucket: influx.bucket, measurement: MEASUREMENT });
  const unwritten = stats.reduce((n, s) => n + s.pointsLost + s.pointsPending, 0);
  const summary: DemoSummary = {
    seconds: elapsed() / 1000,
    devicesEnrolled: tally.enrolled,
    secureChannels: secure.channels.stats().accepted,
    plaintextRefused: refusal.code,
    leasesIssued: tally.issued,
    leasesRenewed: tally.renewed,
    leasesRevoked: tally.expired + tally.revokedOnRequest,
    leasesExpired: tally.expired,
    revokedFromOutside: tally.outside,
    deactivatedInInfluxdb: tally.deactivated,
    met401: [...met.values()].reduce((n, m) => n + m.unauthorized, 0),
    met403: [...met.values()].reduce((n, m) => n + m.forbidden, 0),
    pointsWritten,
    pointsInInfluxdb,
    pointsLost: unwritten + Math.max(0, pointsWritten - pointsInInfluxdb),
  };
  view.stop(summary);
  return summary;
}
