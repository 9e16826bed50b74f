// A hub's Prometheus /metrics, read as numbers: what a scenario compares before and
// after (drops by reason, connections, peers refused).
import { get } from 'node:http';

/** Samples by `name{labels}` exactly as the exposition prints them, e.g. `tessera_ws_connections{direction="incoming"}`. */
export type Samples = ReadonlyMap<string, number>;

/**
 * GET `<metricsUrl>/metrics` on a connection of its own (a kept-alive one may be closed by
 * the hub's idle timeout just as it is reused), parsed; throws if the hub does not answer
 * 200 within `timeoutMs`.
 */
export async function scrapeMetrics(metricsUrl: string, timeoutMs = 10_000): Promise<Samples> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = get(`${metricsUrl}/metrics`, { agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${metricsUrl}/metrics answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${metricsUrl}/metrics did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sample `name{labels}` (0 when absent: a gauge by reason prints only reasons seen). */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const entries = Object.entries(labels);
  const key = entries.length === 0 ? name : `${name}{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  return samples.get(key) ?? 0;
}

/** The sum of `name{label=value}` over `values`, in `after` minus in `before`. */
export function delta(before: Samples, after: Samples, name: string, label: string, values: readonly string[]): number {
  let n = 0;
  for (const value of values) n += sample(after, name, { [label]: value }) - sample(before, name, { [label]: value });
  return n;
}

/** The hub's V8 heap in use (MiB), from prom-client's default metrics: what is live, where RSS also counts what the allocator keeps. */
export function heapUsedMiB(samples: Samples): number {
  return sample(samples, 'tessera_nodejs_heap_size_used_bytes') / (1024 * 1024);
}
