// A hub's GET /metrics (Prometheus text, docs/operations.md "Health and metrics") read into
// numbers. Reading it also starts a new event-loop-delay window: the hub's
// tessera_nodejs_eventloop_lag_* gauges cover the time since the previous read.

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

/** Reads `${metricsUrl}/metrics`. */
export async function readHubMetrics(metricsUrl: string): Promise<HubMetrics> {
  const response = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${metricsUrl}/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** Prometheus text exposition format, samples only (comments and timestamps ignored). */
export function parseMetrics(text: string): HubMetrics {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m !== null) values.set(m[1]!, Number(m[2]));
  }
  return new HubMetrics(values);
}
