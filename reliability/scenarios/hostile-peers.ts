// Hostile peers against a secure `tessera hub` (memory storage, influxdb-local in a
// process of its own) whose --max-connections is well below what comes at it: a storm of
// connections opened at once from processes of their own, then, together, slow-loris
// upgrades, peers that never read what they are sent and peers that never answer a
// ping; a normal member keeps asking for its leases all along.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ed25519Identity } from '@tessera/secure-channel';
import { Packr } from 'msgpackr';
import type { Evidence } from '../evidence.js';
import type { Emit, Size } from '../figure.js';
import { delta, heapUsedMiB, sample, scrapeMetrics } from '../hub-metrics.js';
import { bootstrapToken, hubClients, type HubClients, keepAsking } from '../members.js';
import { type LoggedProcess, spawnLogged, startInfluxdbLocal, startSecureHub } from '../processes.js';
import { watchRss } from '../rss.js';
import type { Scenario } from '../scenario.js';
import { maskedFrame, rawConnect, rawUpgrade, upgradeRequest } from '../hostile/raw-peer.js';
import type { StormOutcome } from '../hostile/storm-process.js';

const STORM_PROCESS = fileURLToPath(new URL('../hostile/storm-process.ts', import.meta.url));

interface Sizes {
  /** Connections opened at once, and the hub's --max-connections. */
  storm: number;
  cap: number;
  slowLoris: number;
  neverRead: number;
  neverPong: number;
  /** The hub's --handshake-timeout, --slow-peer-timeout and --liveness-timeout (ms). */
  handshakeTimeout: number;
  slowPeerTimeout: number;
  livenessTimeout: number;
}

/** Full size runs the hub's default timeouts (what users run); CI shortens them so it ends in seconds. */
const SIZES: Record<Size, Sizes> = {
  full: { storm: 5_000, cap: 1_000, slowLoris: 500, neverRead: 20, neverPong: 200, handshakeTimeout: 10_000, slowPeerTimeout: 30_000, livenessTimeout: 30_000 },
  ci: { storm: 500, cap: 100, slowLoris: 50, neverRead: 5, neverPong: 20, handshakeTimeout: 1_000, slowPeerTimeout: 1_000, livenessTimeout: 2_000 },
};
/** Connections one storm process opens at most (each is a file descriptor of its own). */
const PER_STORM_PROCESS = 2_500;
/** How long the storm processes hold what they were let in, while /metrics is read. */
const STORM_HOLD_MS = 2_000;
/** How often /metrics is read during the storm. */
const METRICS_EVERY_MS = 50;
/** How often the normal member asks for its leases (ms). */
const NORMAL_EVERY_MS = 200;
/**
 * Bytes of echo requests a never-reading peer sends at first. The kernel takes the first
 * few MiB of the echoes (the hub's send buffer grows towards tcp_wmem's 4 MiB, the peer's
 * receive buffer holds more): 8 MiB was measured not to be enough on loopback (the hub's
 * own buffer drained into the kernel, so it was never over its mark for long), 16 MiB is.
 * Then one more every NEVER_READ_EVERY_MS, so the hub has always something to send and the
 * peer is never silent.
 */
const NEVER_READ_BURST = 16 << 20;
const NEVER_READ_EVERY_MS = 250;
const NEVER_READ_FRAME = 128 << 10;
/**
 * A timer may fire early by up to one turn of the hub's event loop (libuv caches the loop's
 * time), and a client's clock starts a moment before the hub's: a drop is early only below
 * 90 % of its timeout.
 */
const EARLY = 0.9;
/** How late a timer may fire at full size, on top of its design, before a drop is late. */
const LATE_MS = 2_000;
/** How long the hub may take, at full size, to read the never-reading peers' bursts (20 × 16 MiB) before their timers start. */
const NEVER_READ_FILL_MS = 8_000;
/**
 * Hub RSS growth allowed: 128 MiB for where V8 and the allocator settle after bursts of
 * large messages (the never-reading peers send 16 MiB each; growth measured on the 2-core
 * development machine: 83 MiB at CI size, 122–130 MiB at full size, most of it staying at
 * the end though heap used falls back), 64 KiB per connection held at the cap (a socket,
 * its ws state, its Connection), and what a never-reading peer can make the hub hold (256
 * KiB in its socket, 1 MiB queued) with room for the message on its way in.
 */
function rssBound(n: Sizes): number {
  return 128 + (n.cap * 64) / 1024 + n.neverRead * 1.5;
}

const packr = new Packr({ useRecords: false });

/** The soft limit on open files of this process (children inherit it). */
function fdLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? 1_024 : Number(m[1]);
  } catch {
    return 1_024; // no /proc: assume the common default
  }
}

/** Reads /metrics every METRICS_EVERY_MS until stopped: the highest incoming-connection count seen, and how many readings. */
function watchConnections(metricsUrl: string): { stop(): Promise<{ highest: number; readings: number }> } {
  let highest = 0;
  let readings = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const s = await scrapeMetrics(metricsUrl);
        highest = Math.max(highest, sample(s, 'tessera_ws_connections', { direction: 'incoming' }));
        readings++;
      } catch {
        // a reading the busy hub did not answer in time: the next one counts
      }
      await new Promise((resolve) => setTimeout(resolve, METRICS_EVERY_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { highest, readings };
    },
  };
}

/** `storm` connections at once from processes of their own; what each saw, and the hub's highest count meanwhile. */
async function connectionStorm(evidence: Evidence, url: string, metricsUrl: string, storm: number): Promise<{ outcomes: StormOutcome[]; highest: number; readings: number }> {
  const perProcess = Math.max(1, Math.min(PER_STORM_PROCESS, fdLimit() - 256));
  const processes = Math.ceil(storm / perProcess);
  const watch = watchConnections(metricsUrl);
  const started: LoggedProcess[] = [];
  try {
    const outcomes = await Promise.all(
      Array.from({ length: processes }, async (_, i) => {
        const count = i === processes - 1 ? storm - perProcess * (processes - 1) : perProcess;
        const { process, match } = await spawnLogged(evidence, `storm process ${i + 1}`, ['--import', 'tsx', STORM_PROCESS, url, String(count), String(STORM_HOLD_MS)], {
          ready: /^storm (\{.*\})$/m,
        });
        started.push(process);
        return JSON.parse(match[1]!) as StormOutcome;
      }),
    );
    // the storm processes hold their connections for STORM_HOLD_MS: the readings go on meanwhile
    await Promise.all(started.map((p) => p.ended));
    const { highest, readings } = await watch.stop();
    return { outcomes, highest, readings };
  } finally {
    await watch.stop();
    await Promise.all(started.map((p) => p.kill('SIGKILL')));
  }
}

/** Milliseconds from each start to its drop, for peers the hub dropped. */
interface Drops {
  opened: number;
  dropped: number;
  earliestMs: number;
  latestMs: number;
}

function drops(times: (number | undefined)[]): Drops {
  const done = times.filter((t): t is number => t !== undefined);
  return { opened: times.length, dropped: done.length, earliestMs: Math.min(...done), latestMs: Math.max(...done) };
}

/** Peers that send half an upgrade (or nothing, or a header a byte at a time) and stall: each should be cut at the handshake timeout. */
async function slowLoris(port: number, count: number, waitMs: number): Promise<Drops> {
  const peers = await Promise.all(Array.from({ length: count }, () => rawConnect(port)));
  const request = upgradeRequest(port);
  const dribbles: NodeJS.Timeout[] = [];
  peers.forEach(({ socket }, i) => {
    switch (i % 3) {
      case 0: // all but the blank line that ends the headers
        socket.write(request.slice(0, -2));
        break;
      case 1: // nothing at all
        break;
      default: {
        // a byte at a time
        let at = 0;
        const timer = setInterval(() => {
          if (at < request.length - 2 && !socket.destroyed) socket.write(request[at++]!);
        }, 100);
        dribbles.push(timer);
      }
    }
  });
  const times = await Promise.all(peers.map(({ connectedAt, closed, socket }) => deadline(closed, waitMs, () => socket.destroy()).then((at) => (at === undefined ? undefined : at - connectedAt))));
  for (const t of dribbles) clearInterval(t);
  return drops(times);
}

/** Resolves with `promise`'s value, or undefined after `ms` (then calls `giveUp`). */
async function deadline<T>(promise: Promise<T>, ms: number, giveUp: () => void): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const outcome = await Promise.race([promise, late]);
  clearTimeout(timer);
  if (outcome === undefined) giveUp();
  return outcome;
}

/**
 * Peers that never read: each upgrades, stops reading, and sends NEVER_READ_BURST of echo
 * requests (the echoes pile up at the hub), then one more every NEVER_READ_EVERY_MS. The
 * hub counts each it drops (`slow_peer`); /metrics is read until all are counted.
 */
async function neverRead(port: number, metricsUrl: string, count: number, waitMs: number): Promise<{ drops: Drops; closedSeen: number }> {
  const before = await scrapeMetrics(metricsUrl);
  const peers = await Promise.all(Array.from({ length: count }, () => rawUpgrade(port)));
  const payload = randomBytes(NEVER_READ_FRAME);
  const echo = maskedFrame(packr.pack([1, [[0, 'echo']], [[0, `r.${randomBytes(8).toString('hex')}`]], payload]));
  const startedAt = performance.now();
  for (const { socket } of peers) {
    socket.pause();
    for (let sent = 0; sent < NEVER_READ_BURST; sent += NEVER_READ_FRAME) socket.write(echo);
  }
  const beats = setInterval(() => {
    for (const { socket } of peers) if (!socket.destroyed) socket.write(echo);
  }, NEVER_READ_EVERY_MS);
  // the hub's count, read every 100 ms: when each drop happened
  const times: number[] = [];
  const until = performance.now() + waitMs;
  while (times.length < count && performance.now() < until) {
    try {
      const counted = delta(before, await scrapeMetrics(metricsUrl), 'tessera_ws_peers_refused', 'reason', ['slow_peer']);
      while (times.length < Math.min(counted, count)) times.push(performance.now() - startedAt);
    } catch {
      // the next reading counts
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // writes to a connection the hub cut fail: each peer sees its end at its next write
  const closedSeen = (await Promise.all(peers.map(({ closed, socket }) => deadline(closed, 5_000, () => socket.destroy())))).filter((t) => t !== undefined).length;
  clearInterval(beats);
  return { drops: drops([...times, ...Array<undefined>(count - times.length).fill(undefined)]), closedSeen };
}

/** Peers that upgrade, read everything, and never answer a ping (nor send anything): each should be closed at the liveness timeout. */
async function neverPong(port: number, count: number, waitMs: number): Promise<Drops> {
  const peers = await Promise.all(Array.from({ length: count }, () => rawUpgrade(port)));
  for (const { socket } of peers) socket.resume(); // reads, and drops, the pings
  const times = await Promise.all(peers.map(({ upgradedAt, closed, socket }) => deadline(closed, waitMs, () => socket.destroy()).then((at) => (at === undefined ? undefined : at - upgradedAt))));
  return drops(times);
}

/**
 * The figures of peers the hub should drop at `timeoutMs`: all dropped, none early, and (at
 * full size only: a busy 2-core CI machine can delay any timer) the latest no later than
 * `latenessMs` after the timeout.
 */
function emitDrops(emit: Emit, size: Size, what: string, d: Drops, timeoutMs: number, latenessMs: number): void {
  emit({ name: `${what}: dropped by the hub`, value: d.opened === 0 ? Number.NaN : d.dropped / d.opened, unit: 'ratio', bound: { atLeast: 1 } });
  emit({ name: `${what}: earliest drop`, value: Math.round(d.earliestMs), unit: 'ms', bound: { atLeast: Math.floor(timeoutMs * EARLY) } });
  emit({ name: `${what}: latest drop, after the timeout`, value: Math.round(d.latestMs - timeoutMs), unit: 'ms', ...(size === 'full' ? { bound: { atMost: latenessMs } } : {}) });
}

const hostilePeers: Scenario = {
  name: 'hostile-peers',
  description:
    'A secure hub with --max-connections well below the storm that comes at it: connections opened at once from processes of their own, then slow-loris upgrades, peers that never read and peers that never answer a ping, while a normal member keeps asking for its leases.',
  async run(size, emit, evidence) {
    const n = SIZES[size];
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hostile-peers-'));
    let clients: HubClients | undefined;
    try {
      const influx = await startInfluxdbLocal(evidence, randomBytes(24).toString('base64url'));
      const admin = Ed25519Identity.generate();
      evidence.identity('the admin', admin);
      const hub = await startSecureHub(evidence, {
        dir,
        storage: 'memory',
        influx,
        admins: [admin.identifier],
        args: [
          '--max-connections', String(n.cap),
          '--handshake-timeout', String(n.handshakeTimeout),
          '--slow-peer-timeout', String(n.slowPeerTimeout),
          '--liveness-timeout', String(n.livenessTimeout),
        ],
      });
      clients = await hubClients(evidence, hub.url, hub.identifier);
      const token = await bootstrapToken(evidence, clients.session('the admin', { identity: admin }).session, 1);
      const normal = clients.session('the normal member', { enrollToken: token }).session;
      await normal.request('token_lease', JSON.stringify({ action: 'list' }));
      const rss = watchRss(hub.process.pid);
      const start = await scrapeMetrics(hub.metricsUrl);
      const normalLoop = keepAsking(evidence, normal, NORMAL_EVERY_MS);

      // 1. the storm
      const storm = await connectionStorm(evidence, hub.url, hub.metricsUrl, n.storm);
      const afterStorm = await scrapeMetrics(hub.metricsUrl);
      process.stderr.write(`hostile-peers: storm ${JSON.stringify(storm)}\n`);
      const accepted = storm.outcomes.reduce((sum, o) => sum + o.accepted, 0);
      const unanswered = storm.outcomes.reduce((sum, o) => sum + o.unanswered, 0);
      const refused = n.storm - accepted - unanswered;
      const refused503 = storm.outcomes.reduce((sum, o) => sum + (o.refused['503'] ?? 0), 0);
      const hubRefused = delta(start, afterStorm, 'tessera_ws_peers_refused', 'reason', ['max_connections', 'socket_cap']);

      // 2. slow-loris, never-reading and never-ponging peers, all at once
      const [loris, slow, silent] = await Promise.all([
        slowLoris(hub.port, n.slowLoris, n.handshakeTimeout * 3 + 10_000),
        neverRead(hub.port, hub.metricsUrl, n.neverRead, n.slowPeerTimeout * 3 + 10_000),
        neverPong(hub.port, n.neverPong, n.livenessTimeout * 3 + 10_000),
      ]);
      process.stderr.write(`hostile-peers: slow-loris ${JSON.stringify(loris)}, never read ${JSON.stringify(slow)}, never pong ${JSON.stringify(silent)}\n`);
      const normalOutcome = await normalLoop.stop();
      const end = await scrapeMetrics(hub.metricsUrl);
      const endMiB = rss.stop();
      const peakMiB = rss.peakMiB();

      emit({ name: 'hub crashes (its process ended)', value: hub.process.alive() ? 0 : 1, unit: 'crashes', bound: { atMost: 0 } });
      emit({ name: 'connections opened at once', value: n.storm, unit: 'connections' });
      emit({ name: 'the hub\'s --max-connections', value: n.cap, unit: 'connections' });
      emit({ name: 'storm connections accepted', value: accepted, unit: 'connections', bound: { atLeast: 1, atMost: n.cap } });
      emit({ name: 'incoming connections at the hub, highest reading of /metrics', value: storm.highest, unit: 'connections', bound: { atMost: n.cap } });
      emit({ name: '/metrics readings during the storm', value: storm.readings, unit: 'readings', bound: { atLeast: 1 } });
      emit({ name: 'storm connections refused', value: refused, unit: 'connections' });
      emit({ name: 'of them with HTTP 503', value: refused503, unit: 'connections' });
      emit({ name: 'storm connections neither accepted nor refused within 30 s', value: unanswered, unit: 'connections', bound: { atMost: 0 } });
      emit({ name: 'refusals the hub counted (max_connections, socket_cap) per refusal seen', value: refused === 0 ? Number.NaN : hubRefused / refused, unit: 'ratio', bound: { atLeast: 1, atMost: 1 } });
      emit({ name: 'time to a refusal, p99 (the highest of the storm processes\')', value: Math.round(Math.max(...storm.outcomes.map((o) => o.refusalMs.p99))), unit: 'ms' });

      // the handshake timer is one timer per socket
      emitDrops(emit, size, 'slow-loris upgrades', loris, n.handshakeTimeout, LATE_MS);
      emit({ name: 'slow-loris upgrades the hub counted (handshake_timeout)', value: delta(afterStorm, end, 'tessera_ws_peers_refused', 'reason', ['handshake_timeout']), unit: 'connections', bound: { atLeast: n.slowLoris } });
      // counted from the peer's first request: the hub's timer starts later, once it has read the burst (with every other
      // peer's) and its buffer for the peer has passed the mark
      emitDrops(emit, size, 'peers that never read (from their first request)', slow.drops, n.slowPeerTimeout, NEVER_READ_FILL_MS + LATE_MS);
      emit({ name: 'peers that never read: their end seen by the peer', value: slow.drops.opened === 0 ? Number.NaN : slow.closedSeen / slow.drops.opened, unit: 'ratio', bound: { atLeast: 1 } });
      // liveness checks every third of the timeout: a silent peer is closed at the first check past it, by 4/3 of it
      emitDrops(emit, size, 'peers that never answer a ping', silent, n.livenessTimeout, Math.ceil(n.livenessTimeout / 3) + LATE_MS);

      emit({ name: "normal member's requests served throughout", value: normalOutcome.served, unit: 'requests', bound: { atLeast: 1 } });
      emit({ name: "normal member's requests that failed", value: normalOutcome.failed, unit: 'requests', bound: { atMost: 0 } });
      emit({ name: 'hub RSS at the start', value: round(rss.startMiB), unit: 'MiB' });
      emit({ name: 'hub RSS growth (peak - start)', value: round(peakMiB - rss.startMiB), unit: 'MiB', bound: { atMost: round(rssBound(n)) } });
      emit({ name: 'hub RSS growth (end - start)', value: round(endMiB - rss.startMiB), unit: 'MiB' });
      emit({ name: 'hub heap used at the start', value: round(heapUsedMiB(start)), unit: 'MiB' });
      emit({ name: 'hub heap used at the end', value: round(heapUsedMiB(end)), unit: 'MiB' });
      emit({ name: 'incoming connections at the hub at the end', value: sample(end, 'tessera_ws_connections', { direction: 'incoming' }), unit: 'connections', bound: { atMost: 1 } });
    } finally {
      await clients?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export default hostilePeers;
