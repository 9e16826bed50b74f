// Hostile frames over many WebSocket connections at once (raw `ws` clients): each
// connection sends a few generated messages, then a valid echo request (a probe). The
// hub either answers the probe (it took everything before it and carried on) or closes
// the connection with a protocol close code (too many invalid frames, text, too large);
// a connection that gets neither within the wait is counted as unanswered. Each of the
// `connections` slots draws from its own Prng (seed and slot), so a seed replays exactly.
import WebSocket from 'ws';
import { echoProbe, type FrameKind, hostileFrame, replyName } from './frames.js';
import { Prng } from './prng.js';

/** How long a connection waits for its probe's answer or its close. */
const PROBE_WAIT_MS = 15_000;
/** Messages a connection sends before its probe, at most. */
const MAX_PER_CONNECTION = 24;

export interface FrameStormResult {
  /** Messages handed to an open socket (the probes not counted). */
  sent: number;
  byKind: Partial<Record<FrameKind, number>>;
  /** Connections opened. */
  connections: number;
  /** Connections whose probe was answered. */
  answered: number;
  /** Connections the hub closed, by close code. */
  closedByHub: Record<string, number>;
  /** Connections with neither an answer nor a close in time, or refused. */
  unanswered: number;
  seconds: number;
}

type Outcome = { answered: true } | { closed: number } | { unanswered: true };

function open(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'tessera.v1', { perMessageDeflate: false, handshakeTimeout: PROBE_WAIT_MS });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(undefined);
    });
    ws.once('error', () => resolve(undefined));
  });
}

/** Sends `total` hostile messages to the hub at `url` over `slots` connections at a time. */
export async function frameStorm(url: string, seed: number, total: number, slots: number): Promise<FrameStormResult> {
  const result: FrameStormResult = { sent: 0, byKind: {}, connections: 0, answered: 0, closedByHub: {}, unanswered: 0, seconds: 0 };
  const started = performance.now();
  const slot = async (index: number, quota: number): Promise<void> => {
    const rng = new Prng((seed + Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    let left = quota;
    while (left > 0) {
      const ws = await open(url);
      result.connections++;
      if (ws === undefined) {
        result.unanswered++;
        continue;
      }
      const probe = `probe.${rng.hex(16)}`;
      const outcome = new Promise<Outcome>((resolve) => {
        const timer = setTimeout(() => resolve({ unanswered: true }), PROBE_WAIT_MS);
        ws.on('message', (data: Buffer) => {
          if (replyName(data) === probe) {
            clearTimeout(timer);
            resolve({ answered: true });
          }
        });
        ws.once('close', (code) => {
          clearTimeout(timer);
          resolve({ closed: code });
        });
        ws.on('error', () => undefined);
      });
      for (let n = Math.min(left, rng.int(1, MAX_PER_CONNECTION)); n > 0 && ws.readyState === WebSocket.OPEN; n--) {
        const { kind, data } = hostileFrame(rng, result.connections);
        ws.send(data);
        left--;
        result.sent++;
        result.byKind[kind] = (result.byKind[kind] ?? 0) + 1;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(echoProbe(probe, rng.bytes(8)));
      const end = await outcome;
      if ('answered' in end) result.answered++;
      else if ('closed' in end) result.closedByHub[end.closed] = (result.closedByHub[end.closed] ?? 0) + 1;
      else result.unanswered++;
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }
  };
  const per = Math.floor(total / slots);
  await Promise.all(Array.from({ length: slots }, (_, i) => slot(i, i === 0 ? total - per * (slots - 1) : per)));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
