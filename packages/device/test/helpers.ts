import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InfluxdbLocal } from '@tessera/influxdb-local';

/** Polls `check` until it holds; fails with `what` after `timeout` ms. */
export { waitUntil as waitFor } from '@tessera/testing';

/** The seq fields of a device's points in influxdb-local, oldest first. */
export function seqsOf(influx: InfluxdbLocal, device: string, measurement = 'device_metrics'): number[] {
  return influx.points({ measurement, tags: { device } }).map((p) => p.fields['seq'] as number);
}

/** A stdout/stderr stand-in that keeps what is written: `text`, and its non-empty `lines()`. */
export function capture() {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
    lines: () => text.split('\n').filter((l) => l !== ''),
  };
}

/** 1..n */
export function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** What the proxy does with the next write: answer with a status instead of forwarding, or forward and then answer with a status (the answer is "lost"). */
export type Fault = { answer: number } | { forwardThenAnswer: number };

/** An HTTP proxy in front of influxdb-local whose next writes can be made to fail. */
export interface FaultyProxy {
  url: string;
  /** Faults for the next writes, in order. */
  faults: Fault[];
  /** Writes seen (POST /api/v2/write). */
  writes: number;
  close(): Promise<void>;
}

export async function faultyProxy(target: string): Promise<FaultyProxy> {
  const proxy: FaultyProxy = { url: '', faults: [], writes: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    const isWrite = req.method === 'POST' && (req.url ?? '').startsWith('/api/v2/write');
    if (isWrite) proxy.writes++;
    const fault = isWrite ? proxy.faults.shift() : undefined;
    if (fault !== undefined && 'answer' in fault) {
      req.resume();
      req.on('end', () => fail(res, fault.answer));
      return;
    }
    forward(target, req, (upstream, body) => {
      if (fault !== undefined) return fail(res, fault.forwardThenAnswer);
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

function forward(target: string, req: IncomingMessage, done: (upstream: IncomingMessage, body: Buffer) => void): void {
  const url = new URL(req.url ?? '/', target);
  const out = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (upstream) => {
    const chunks: Buffer[] = [];
    upstream.on('data', (c: Buffer) => chunks.push(c));
    upstream.on('end', () => done(upstream, Buffer.concat(chunks)));
  });
  req.pipe(out);
}

function fail(res: ServerResponse, status: number): void {
  const code = status === 400 ? 'invalid' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 429 ? 'too many requests' : 'unavailable';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-platform-error-code': code });
  res.end(JSON.stringify({ code, message: `injected ${status}` }));
}
