// A peer built from nothing but `ws` and `msgpackr`, byte for byte as
// docs/protocol.md §3 says: no project code on the client side.
import { Packr } from 'msgpackr';
import WebSocket from 'ws';

const packr = new Packr({ useRecords: false });

/** One transport message: `[1, onward, return, payload]`. */
export const frame = (onward: [number, string][], back: [number, string][], payload: Uint8Array | string) =>
  packr.pack([1, onward, back, typeof payload === 'string' ? Buffer.from(payload) : payload]);

/** Opens a WebSocket offering `protocols` (tessera.v1 by default); rejects if it fails. */
export function open(url: string, protocols: string | string[] = 'tessera.v1'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

export function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
}

export function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

/** The HTTP status an upgrade to `url` is refused with (0 if it was accepted). */
export function upgradeStatus(url: string, protocols: string | string[] = 'tessera.v1'): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(0);
    });
    ws.on('error', () => undefined);
  });
}
