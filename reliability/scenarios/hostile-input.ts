// Hostile input against a secure `tessera hub` (memory storage, influxdb-local in a
// process of its own), over loopback, in three phases while a normal member keeps asking
// for its leases: generated WebSocket frames over many raw connections; generated lease
// and authority requests through secure channels (members' and strangers') and in
// plaintext; corrupted and replayed ciphertexts on an open channel. Everything generated
// comes from one seed (printed; TESSERA_RELIABILITY_SEED replays it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Ed25519Identity } from '@tessera/secure-channel';
import type { HubSession } from '@tessera/lease-client';
import type { Evidence } from '../evidence.js';
import type { Size } from '../figure.js';
import { delta, heapUsedMiB, type Samples, scrapeMetrics } from '../hub-metrics.js';
import { bootstrapToken, hubClients, type HubClients, keepAsking, readAnswer, worker } from '../members.js';
import { startInfluxdbLocal, startSecureHub } from '../processes.js';
import { watchRss } from '../rss.js';
import type { Scenario } from '../scenario.js';
import { ChannelTap, type Corruption } from '../hostile/channel-tap.js';
import { frameStorm } from '../hostile/frame-storm.js';
import { Prng, runSeed } from '../hostile/prng.js';
import { hostileRequest } from '../hostile/requests.js';

const SIZES: Record<Size, { frames: number; requests: number; corrupted: number }> = {
  full: { frames: 100_000, requests: 100_000, corrupted: 100_000 },
  ci: { frames: 2_000, requests: 2_000, corrupted: 2_000 },
};
/** Raw connections sending frames at once. */
const FRAME_CONNECTIONS = 32;
/** Members and strangers sending generated requests, each with this many in flight (the authority's per-identity bound). */
const MEMBERS = 4;
const STRANGERS = 4;
const IN_FLIGHT = 8;
/** Plaintext requests in flight. */
const PLAINTEXT_IN_FLIGHT = 16;
/** A stranger's session is replaced by a new identity's after this many requests (the hub ends a stranger's channel after 60 s). */
const STRANGER_REQUESTS = 1_000;
/** Corrupted messages between two genuine requests on the attacked channel. */
const CORRUPTED_BATCH = 1_000;
/** How often the normal member asks for its leases (ms). */
const NORMAL_EVERY_MS = 200;
/**
 * Hub RSS growth allowed (MiB). The hub's RSS rises once, to where V8's heap and the
 * allocator settle under this load, and stays there: on the 2-core development machine
 * from about 90 MiB to 250 MiB over the first 100,000 requests, and to 259 MiB after
 * 400,000 (heap used 40–75 MiB throughout, by when the collector last ran). What the
 * attack can make it hold at once is bounded by its limits: 32 connections × (256 KiB on
 * its way in + 1.25 MiB of unread replies) ≈ 48 MiB. A leak of 1 KiB per frame, request
 * or ciphertext (300,000 at full size) would add about 293 MiB and break this bound; a
 * smaller leak shows as growth past the plateau in a longer run.
 */
const RSS_GROWTH_MIB = 256;
/** Drop reasons of ciphertexts that do not authenticate (docs/protocol.md §5). */
const CIPHERTEXT_DROPS = ['tampered', 'replayed', 'too_old', 'too_far', 'garbage'];

/** Answers by outcome (`success` or the failure code), and requests that got none, by sender. */
interface Tally {
  sent: number;
  answers: Record<string, number>;
  unanswered: number;
  unansweredBy: Record<string, number>;
}

function tally(): Tally {
  return { sent: 0, answers: {}, unanswered: 0, unansweredBy: {} };
}

/** Counts one answer by its outcome. */
function count(t: Tally, evidence: Evidence, payload: Uint8Array): void {
  const answer = readAnswer(evidence, payload);
  const outcome = answer === undefined ? 'not an answer' : answer.result === 'success' ? 'success' : (answer.code ?? 'failure without a code');
  t.answers[outcome] = (t.answers[outcome] ?? 0) + 1;
}

/** Generated requests: members' and strangers' through channels, and plaintext, `total` in all. */
async function requestStorm(evidence: Evidence, seed: number, total: number, clients: { members: HubClients; strangers: HubClients; plaintext: HubClients }, token: string): Promise<Tally> {
  const t = tally();
  let left = total;
  const take = (): boolean => {
    if (left <= 0) return false;
    left--;
    t.sent++;
    return true;
  };
  const answered = async (request: Promise<{ payload: Uint8Array }>, sender: 'members' | 'strangers' | 'plaintext'): Promise<void> => {
    try {
      count(t, evidence, (await request).payload);
    } catch {
      t.unanswered++;
      t.unansweredBy[sender] = (t.unansweredBy[sender] ?? 0) + 1;
    }
  };
  const lanes: Promise<void>[] = [];
  const lane = (index: number, send: (rng: Prng) => Promise<void>): void => {
    const rng = new Prng((seed + Math.imul(index + 101, 0x9e3779b1)) >>> 0);
    lanes.push(
      (async () => {
        while (take()) await send(rng);
      })(),
    );
  };
  let lanesOpened = 0;
  for (let m = 0; m < MEMBERS; m++) {
    const { session } = clients.members.session(`member ${m + 1}`, { enrollToken: token });
    for (let i = 0; i < IN_FLIGHT; i++) lane(lanesOpened++, (rng) => {
      const r = hostileRequest(rng);
      return answered(session.request(r.worker, r.payload.toString('utf8')), 'members');
    });
  }
  for (let s = 0; s < STRANGERS; s++) {
    // a stranger's identity is replaced every STRANGER_REQUESTS requests (the hub closes a stranger's channel after its
    // grace); the old session is closed once its last request is answered
    let generation = 0;
    let current = { session: clients.strangers.session(`stranger ${s + 1}.0`).session, used: 0, inFlight: 0 };
    for (let i = 0; i < IN_FLIGHT; i++) lane(lanesOpened++, async (rng) => {
      if (current.used >= STRANGER_REQUESTS) {
        const old = current;
        current = { session: clients.strangers.session(`stranger ${s + 1}.${++generation}`).session, used: 0, inFlight: 0 };
        if (old.inFlight === 0) old.session.close();
      }
      const mine = current;
      mine.used++;
      mine.inFlight++;
      const r = hostileRequest(rng);
      try {
        await answered(mine.session.request(r.worker, r.payload.toString('utf8')), 'strangers');
      } finally {
        if (--mine.inFlight === 0 && mine !== current) mine.session.close();
      }
    });
  }
  for (let i = 0; i < PLAINTEXT_IN_FLIGHT; i++) lane(lanesOpened++, (rng) => {
    const r = hostileRequest(rng);
    return answered(clients.plaintext.node.request(worker(clients.plaintext.hubRoute, r.worker), r.payload), 'plaintext');
  });
  await Promise.all(lanes);
  return t;
}

/** Corrupted and replayed ciphertexts on a member's open channel, a genuine request after each batch. */
async function corruptChannel(evidence: Evidence, rng: Prng, tap: ChannelTap, session: HubSession, total: number): Promise<{ sent: number; byKind: Partial<Record<Corruption, number>>; genuine: number; genuineServed: number }> {
  const out = { sent: 0, byKind: {} as Partial<Record<Corruption, number>>, genuine: 0, genuineServed: 0 };
  const genuine = async (): Promise<void> => {
    out.genuine++;
    try {
      const reply = await session.request('token_lease', JSON.stringify({ action: 'list' }));
      if (readAnswer(evidence, reply.payload)?.result === 'success') out.genuineServed++;
    } catch {
      // counted as not served
    }
  };
  await genuine(); // opens the channel (and enrolls): ciphertexts to corrupt go through the tap from here on
  while (out.sent < total) {
    for (let n = Math.min(CORRUPTED_BATCH, total - out.sent); n > 0; n--) {
      const kind = tap.inject(rng);
      out.byKind[kind] = (out.byKind[kind] ?? 0) + 1;
      out.sent++;
    }
    // the hub handles a connection's messages in order: this answer comes after every corrupted one was handled
    await genuine();
  }
  return out;
}

const hostileInput: Scenario = {
  name: 'hostile-input',
  description:
    'A secure hub (memory storage, influxdb-local) takes generated WebSocket frames over many raw connections, generated lease and authority requests (members and strangers through secure channels, and plaintext), and corrupted and replayed ciphertexts on an open channel, while a normal member keeps asking for its leases.',
  async run(size, emit, evidence) {
    const n = SIZES[size];
    const seed = runSeed();
    process.stderr.write(`hostile-input: seed ${seed} (TESSERA_RELIABILITY_SEED=${seed} replays it)\n`);
    emit({ name: 'seed of the generated input', value: seed, unit: 'seed' });
    const rng = new Prng(seed);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hostile-input-'));
    const clients: HubClients[] = [];
    try {
      const influx = await startInfluxdbLocal(evidence, randomBytes(24).toString('base64url'));
      const admin = Ed25519Identity.generate();
      evidence.identity('the admin', admin);
      const hub = await startSecureHub(evidence, { dir, storage: 'memory', influx, admins: [admin.identifier] });
      const open = async (): Promise<HubClients> => {
        const c = await hubClients(evidence, hub.url, hub.identifier);
        clients.push(c);
        return c;
      };
      // one client node (one connection) each: what one sends cannot hold up another
      const [adminClients, normalClients, members, strangers, plaintext, attacked] = [await open(), await open(), await open(), await open(), await open(), await open()];
      const adminSession = adminClients.session('the admin', { identity: admin }).session;
      const token = await bootstrapToken(evidence, adminSession, MEMBERS + 2);

      const normal = normalClients.session('the normal member', { enrollToken: token }).session;
      const first = await normal.request('token_lease', JSON.stringify({ action: 'create', options: { ttl: 600_000 } }));
      readAnswer(evidence, first.payload); // its lease token is a secret
      const rss = watchRss(hub.process.pid);
      const normalLoop = keepAsking(evidence, normal, NORMAL_EVERY_MS);
      const start = await scrapeMetrics(hub.metricsUrl);
      const memory = (when: string, samples: Samples): void => {
        process.stderr.write(`hostile-input: ${when}: hub RSS ${round(rss.peakMiB())} MiB at most so far, heap used ${round(heapUsedMiB(samples))} MiB\n`);
      };
      memory('at the start', start);

      // 1. frames
      const frames = await frameStorm(hub.url, rng.int(0, 0xffffffff), n.frames, FRAME_CONNECTIONS);
      const afterFrames = await scrapeMetrics(hub.metricsUrl);
      process.stderr.write(`hostile-input: frames ${JSON.stringify(frames)}\n`);
      memory('after the frames', afterFrames);

      // 2. requests
      const requestsStarted = performance.now();
      const requests = await requestStorm(evidence, rng.int(0, 0xffffffff), n.requests, { members, strangers, plaintext }, token);
      const requestSeconds = (performance.now() - requestsStarted) / 1000;
      process.stderr.write(`hostile-input: requests ${JSON.stringify(requests)}\n`);
      const afterRequests = await scrapeMetrics(hub.metricsUrl);
      memory('after the requests', afterRequests);

      // 3. corrupted ciphertexts
      const tap = new ChannelTap(attacked.node, `tap.${randomBytes(8).toString('hex')}`);
      const victim = attacked.session('the attacked member', { enrollToken: token, via: [tap.address] }).session;
      const beforeCorrupt = await scrapeMetrics(hub.metricsUrl);
      const corrupt = await corruptChannel(evidence, rng, tap, victim, n.corrupted);
      const afterCorrupt = await scrapeMetrics(hub.metricsUrl);
      process.stderr.write(`hostile-input: corrupted ${JSON.stringify(corrupt)}\n`);
      memory('after the corrupted ciphertexts', afterCorrupt);

      const normalOutcome = await normalLoop.stop();
      // and once more after everything
      const last = await normal.request('token_lease', JSON.stringify({ action: 'list' })).then(
        (reply) => readAnswer(evidence, reply.payload)?.result === 'success',
        () => false,
      );
      const endMiB = rss.stop();
      const peakMiB = rss.peakMiB();

      emit({ name: 'hub crashes (its process ended)', value: hub.process.alive() ? 0 : 1, unit: 'crashes', bound: { atMost: 0 } });
      emit({ name: 'influxdb-local crashes', value: influx.process.alive() ? 0 : 1, unit: 'crashes', bound: { atMost: 0 } });
      emit({ name: "normal member's requests served during the attack and after it", value: normalOutcome.served + (last ? 1 : 0), unit: 'requests', bound: { atLeast: 1 } });
      emit({ name: "normal member's requests that failed", value: normalOutcome.failed + (last ? 0 : 1), unit: 'requests', bound: { atMost: 0 } });
      emit({ name: 'hub RSS at the start', value: round(rss.startMiB), unit: 'MiB' });
      emit({ name: 'hub RSS growth (peak - start)', value: round(peakMiB - rss.startMiB), unit: 'MiB', bound: { atMost: RSS_GROWTH_MIB } });
      emit({ name: 'hub RSS growth (end - start)', value: round(endMiB - rss.startMiB), unit: 'MiB' });
      emit({ name: 'hub heap used at the start', value: round(heapUsedMiB(start)), unit: 'MiB' });
      emit({ name: 'hub heap used at the end', value: round(heapUsedMiB(afterCorrupt)), unit: 'MiB' });

      emit({ name: 'frames sent', value: frames.sent, unit: 'frames', bound: { atLeast: n.frames } });
      emit({ name: 'frames sent per second', value: round(frames.sent / frames.seconds), unit: 'frames/s' });
      emit({ name: 'connections the frames went over', value: frames.connections, unit: 'connections' });
      emit({ name: 'connections whose probe was answered or that the hub closed with a close code', value: ratio(frames.answered + closedWithCode(frames.closedByHub), frames.connections), unit: 'ratio', bound: { atLeast: 1 } });
      emit({ name: 'connections the hub closed for too many invalid frames (1002)', value: frames.closedByHub['1002'] ?? 0, unit: 'connections' });
      emit({ name: 'frames the hub counted invalid (invalid_frame, text_frame)', value: delta(start, afterFrames, 'tessera_messages_dropped', 'reason', ['invalid_frame', 'text_frame']), unit: 'frames' });
      emit({ name: 'frames for WS addresses the hub refused to dial (forwarding_refused)', value: delta(start, afterFrames, 'tessera_messages_dropped', 'reason', ['forwarding_refused']), unit: 'frames' });

      emit({ name: 'requests sent (members, strangers, plaintext)', value: requests.sent, unit: 'requests', bound: { atLeast: n.requests } });
      emit({ name: 'requests answered', value: ratio(requests.sent - requests.unanswered, requests.sent), unit: 'ratio', bound: { atLeast: 1 } });
      emit({ name: 'requests answered with a code of docs/protocol.md §4 or success', value: ratio(knownAnswers(requests.answers), requests.sent - requests.unanswered), unit: 'ratio', bound: { atLeast: 1 } });
      emit({ name: 'requests answered internal', value: requests.answers['internal'] ?? 0, unit: 'requests', bound: { atMost: 0 } });
      emit({ name: 'requests per second', value: round(requests.sent / requestSeconds), unit: 'requests/s' });

      const dropped = delta(beforeCorrupt, afterCorrupt, 'tessera_secure_channel_drops', 'reason', CIPHERTEXT_DROPS);
      emit({ name: 'corrupted and replayed ciphertexts sent on an open channel', value: corrupt.sent, unit: 'messages', bound: { atLeast: n.corrupted } });
      emit({ name: 'of them dropped and counted by the hub (tampered, replayed, too_old, too_far, garbage)', value: ratio(dropped, corrupt.sent), unit: 'ratio', bound: { atLeast: 1, atMost: 1 } });
      emit({ name: 'genuine requests on the attacked channel served', value: ratio(corrupt.genuineServed, corrupt.genuine), unit: 'ratio', bound: { atLeast: 1 } });
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Codes of docs/protocol.md §4 (also the authority's, §6). */
const KNOWN = new Set(['success', 'invalid_request', 'not_found', 'not_allowed', 'quota_exceeded', 'unavailable', 'internal']);

function knownAnswers(answers: Record<string, number>): number {
  return Object.entries(answers).reduce((sum, [outcome, n]) => sum + (KNOWN.has(outcome) ? n : 0), 0);
}

/** Connections closed with a close frame by the hub (1002, 1003, 1009 …), not cut (1006). */
function closedWithCode(closed: Record<string, number>): number {
  return Object.entries(closed).reduce((sum, [code, n]) => sum + (code === '1006' ? 0 : n), 0);
}

/** part / whole, unrounded: 99,999 of 100,000 must not read as 1. */
function ratio(part: number, whole: number): number {
  return whole === 0 ? Number.NaN : part / whole;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export default hostileInput;
