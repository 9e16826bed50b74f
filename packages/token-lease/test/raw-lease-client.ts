// A lease API client with nothing but `ws` and `msgpackr` (docs/protocol.md §3, §4):
// what any peer can send, with no project code between it and the hub.
import { Packr, unpack } from 'msgpackr';
import WebSocket from 'ws';

const packr = new Packr({ useRecords: false });

/** A response as the hub sends it, unchecked: the tests look at every field. */
export interface RawResponse {
  result: string;
  code?: string;
  message?: string;
  request_id?: string;
  lease?: { id: string; value: string; ttl: number; expires: string };
  leases?: { id: string }[];
}

export interface RawLeaseClient {
  call(request: object | string): Promise<RawResponse>;
  close(): void;
}

/** One WebSocket connection (one owner, on a hub that owns leases by connection). */
export async function rawLeaseClient(port: number): Promise<RawLeaseClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'tessera.v1');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 0;
  const waiting = new Map<string, (response: RawResponse) => void>();
  ws.on('message', (data: Buffer) => {
    // the reply travels back along the route we gave: its first hop names our request
    const [, onward, , payload] = unpack(data) as [number, [number, string][], unknown, Uint8Array];
    const key = onward[0]?.[1] ?? '';
    waiting.get(key)?.(JSON.parse(Buffer.from(payload).toString('utf8')) as RawResponse);
    waiting.delete(key);
  });
  return {
    call(request) {
      const key = `r${next++}`;
      const body = typeof request === 'string' ? request : JSON.stringify(request);
      return new Promise((resolve, reject) => {
        waiting.set(key, resolve);
        ws.send(packr.pack([1, [[0, 'token_lease']], [[0, key]], Buffer.from(body)]), (err) => err && reject(err));
      });
    },
    close: () => ws.close(),
  };
}

/** Raw clients to a hub whose port is known once a test has started it; `closeAll` in afterEach. */
export function rawPeers(port: () => number): { peer(): Promise<RawLeaseClient>; closeAll(): void } {
  const open: RawLeaseClient[] = [];
  return {
    async peer() {
      const p = await rawLeaseClient(port());
      open.push(p);
      return p;
    },
    closeAll() {
      for (const p of open.splice(0)) p.close();
    },
  };
}
