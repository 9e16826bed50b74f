// A hub's GET /metrics (Prometheus text, docs/operations.md "Health and metrics") read into
// numbers: what a scenario compares before and after (drops by reason, connections, peers
// refused). Reading it also starts a new event-loop-delay window: the hub's
// tessera_nodejs_eventloop_lag_* gauges cover the time since the previous read.
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
  return parseSamples(text);
}

/** Prometheus text exposition format, samples only (comments and timestamps ignored). */
export function parseSamples(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m !== null) samples.set(m[1]!, Number(m[2]));
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

/** One read of /metrics: `name` or `name{label="value",…}` (labels as the hub printed them) → value. */
export class HubMetrics {
  constructor(private readonly values: ReadonlyMap<string, number>) {}

  /** The value of `name` with exactly these labels (none: the unlabelled series); undefined when the hub did not print it. */
  get(name: string, labels: Record<string, string> = {}): number | undefined {
    const inner = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    return this.values.get(inner === '' ? name : `${name}{${inner}}`);
  }

  /** Like `get`, throwing when the hub did not print it (a figure read from it would be meaningless). */
  need(name: string, labels: Record<string, string> = {}): number {
    const value = this.get(name, labels);
    if (value === undefined) throw new Error(`the hub's /metrics has no ${name} ${JSON.stringify(labels)}`);
    return value;
  }

  /** The sum of every series of `name`, whatever its labels. */
  sum(name: string): number {
    let total = 0;
    for (const [key, value] of this.values) if (key === name || key.startsWith(`${name}{`)) total += value;
    return total;
  }
}

/** Reads `${metricsUrl}/metrics` (on a connection of its own). */
export async function readHubMetrics(metricsUrl: string): Promise<HubMetrics> {
  return new HubMetrics(await scrapeMetrics(metricsUrl));
}
