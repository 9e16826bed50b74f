// What the devices of a scenario reported, from every swarm: each request (when it started,
// what, how it ended, how long) and each event, with the figures scenarios read from them.
import { percentile } from '../../bench/report.js';
import type { Action, EventKind, Sample, SwarmLine } from './swarm-protocol.js';

export interface FleetEvent {
  kind: EventKind;
  device: string;
  t: number;
  lease?: string;
  detail?: string;
}

/** Which samples to read: started in [from, to), of these actions, with these outcomes. */
export interface SampleFilter {
  from?: number;
  to?: number;
  actions?: readonly Action[];
  /** Devices whose number is in this set (default: all). */
  devices?: ReadonlySet<number>;
  ok?: boolean;
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export class FleetRecord {
  readonly samples: Sample[] = [];
  readonly events: FleetEvent[] = [];

  /** Keeps what a swarm's line reports (samples and events). */
  add(line: SwarmLine): void {
    if (line.type === 'samples') for (const s of line.s) this.samples.push(s);
    else if (line.type === 'event') {
      const { kind, device, t, lease, detail } = line;
      this.events.push({ kind, device, t, ...(lease === undefined ? {} : { lease }), ...(detail === undefined ? {} : { detail }) });
    }
  }

  select(filter: SampleFilter = {}): Sample[] {
    const { from = -Infinity, to = Infinity, actions, devices, ok } = filter;
    return this.samples.filter(
      ([t, action, code, , device]) =>
        t >= from && t < to && (actions === undefined || actions.includes(action)) && (devices === undefined || devices.has(device)) && (ok === undefined || (code === 'ok') === ok),
    );
  }

  /** Events of `kind` at or after `from`. */
  eventsOf(kind: EventKind, from = -Infinity): FleetEvent[] {
    return this.events.filter((e) => e.kind === kind && e.t >= from);
  }
}

/** How many samples ended with each outcome. */
export function outcomes(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, , code] of samples) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

/** The devices (numbers) the samples are of. */
export function devicesOf(samples: readonly Sample[]): Set<number> {
  return new Set(samples.map((s) => s[4]));
}

/** Samples that did not end `ok`. */
export function failures(samples: readonly Sample[]): Sample[] {
  return samples.filter(([, , code]) => code !== 'ok');
}

/** p50, p99 and max latency of the samples, ms (0 for none). */
export function latency(samples: readonly Sample[]): Latency {
  const ms = samples.map((s) => s[3]);
  return { count: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.length === 0 ? 0 : Math.max(...ms) };
}

/** Outcomes as `code: n, …`, most frequent first, for a figure's name or an error message. */
export function describeOutcomes(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code}: ${n}`).join(', ');
}
