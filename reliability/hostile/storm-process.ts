// One process of a connection storm (hostile-peers): `node --import tsx
// reliability/hostile/storm-process.ts <ws url> <connections> <hold ms>` opens every
// connection at once, waits until each is accepted, refused or out of time, prints one
// line `storm {…}` with what happened, holds the accepted ones open for <hold ms> (the
// scenario reads the hub's /metrics meanwhile), then ends them and exits.
import WebSocket from 'ws';
import { percentile } from '../../bench/report.js';

/** How long one connection may wait for its answer. */
const ANSWER_WAIT_MS = 30_000;

export interface StormOutcome {
  opened: number;
  accepted: number;
  /** Refused upgrades by HTTP status, and `closed` for a socket closed or reset before any answer. */
  refused: Record<string, number>;
  /** Neither accepted nor refused within ANSWER_WAIT_MS. */
  unanswered: number;
  /** Milliseconds from opening to a refusal: p50, p99, max. */
  refusalMs: { p50: number; p99: number; max: number };
}

type Answer = { accepted: WebSocket } | { refused: string; ms: number } | { unanswered: true };

function attempt(url: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'tessera.v1', { perMessageDeflate: false, handshakeTimeout: ANSWER_WAIT_MS });
    let settled = false;
    const settle = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    ws.once('open', () => settle({ accepted: ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      settle({ refused: String(res.statusCode ?? 0), ms: performance.now() - started });
    });
    ws.on('error', (err) => {
      const timedOut = /timed out|timeout/i.test(err.message);
      settle(timedOut ? { unanswered: true } : { refused: 'closed', ms: performance.now() - started });
    });
  });
}

const [url, countArg, holdArg] = process.argv.slice(2);
const count = Number(countArg);
const hold = Number(holdArg);
if (url === undefined || !Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(hold) || hold < 0) {
  process.stderr.write('usage: storm-process.ts <ws url> <connections> <hold ms>\n');
  process.exit(2);
}
const answers = await Promise.all(Array.from({ length: count }, () => attempt(url)));
const outcome: StormOutcome = { opened: count, accepted: 0, refused: {}, unanswered: 0, refusalMs: { p50: 0, p99: 0, max: 0 } };
const refusalMs: number[] = [];
const open: WebSocket[] = [];
for (const a of answers) {
  if ('accepted' in a) {
    outcome.accepted++;
    open.push(a.accepted);
    a.accepted.on('error', () => undefined);
  } else if ('refused' in a) {
    outcome.refused[a.refused] = (outcome.refused[a.refused] ?? 0) + 1;
    refusalMs.push(a.ms);
  } else outcome.unanswered++;
}
outcome.refusalMs = { p50: percentile(refusalMs, 50), p99: percentile(refusalMs, 99), max: Math.max(0, ...refusalMs) };
process.stdout.write(`storm ${JSON.stringify(outcome)}\n`);
await new Promise((resolve) => setTimeout(resolve, hold));
for (const ws of open) ws.terminate();
process.exit(0);
