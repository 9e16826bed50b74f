import type { FieldValue, ParsedPoint } from './line-protocol.js';

/** A point as read back: integers come back as numbers (exact up to 2^53). */
export interface LocalPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Nanoseconds since the epoch, as a decimal string. */
  timestamp: string;
  /** The same instant in RFC 3339 with up to nanosecond digits, as InfluxDB prints it. */
  time: string;
}

/** Which points to read back. */
export interface SeriesFilter {
  measurement?: string;
  tags?: Record<string, string>;
}

/** One series (measurement and tag set) and its points by time, as kept in memory and on disk. */
export interface Series {
  measurement: string;
  tags: Array<[string, string]>;
  points: Map<bigint, Map<string, FieldValue>>;
}

/**
 * The points of every bucket. A point written again with the same series and time
 * merges its fields into the one stored, as InfluxDB does.
 */
export class PointStore {
  private readonly buckets = new Map<string, Map<string, Series>>();

  write(bucketID: string, points: readonly ParsedPoint[]): void {
    let series = this.buckets.get(bucketID);
    if (series === undefined) {
      series = new Map();
      this.buckets.set(bucketID, series);
    }
    for (const p of points) {
      const key = seriesKey(p.measurement, p.tags);
      let s = series.get(key);
      if (s === undefined) {
        s = { measurement: p.measurement, tags: p.tags, points: new Map() };
        series.set(key, s);
      }
      const existing = s.points.get(p.time);
      if (existing === undefined) s.points.set(p.time, p.fields);
      else for (const [k, v] of p.fields) existing.set(k, v);
    }
  }

  /** The matching points of a bucket, oldest first. */
  query(bucketID: string, filter: SeriesFilter = {}): LocalPoint[] {
    const found: Array<{ time: bigint; point: LocalPoint }> = [];
    for (const s of this.matching(bucketID, filter)) {
      const tags = Object.fromEntries(s.tags);
      for (const [time, fields] of s.points) {
        const out: Record<string, number | string | boolean> = {};
        for (const [k, v] of fields) out[k] = typeof v === 'bigint' ? Number(v) : v;
        found.push({ time, point: { measurement: s.measurement, tags: { ...tags }, fields: out, timestamp: time.toString(), time: rfc3339(time) } });
      }
    }
    found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    return found.map((f) => f.point);
  }

  /** How many points of a bucket match. */
  count(bucketID: string, filter: SeriesFilter = {}): number {
    let n = 0;
    for (const s of this.matching(bucketID, filter)) n += s.points.size;
    return n;
  }

  /** Every series of every bucket, for persistence. */
  *entries(): Iterable<[string, Series]> {
    for (const [bucketID, series] of this.buckets) for (const s of series.values()) yield [bucketID, s];
  }

  /** Puts back one persisted series. */
  restore(bucketID: string, series: Series): void {
    let byKey = this.buckets.get(bucketID);
    if (byKey === undefined) {
      byKey = new Map();
      this.buckets.set(bucketID, byKey);
    }
    byKey.set(seriesKey(series.measurement, series.tags), series);
  }

  private *matching(bucketID: string, filter: SeriesFilter): Iterable<Series> {
    const series = this.buckets.get(bucketID);
    if (series === undefined) return;
    const wanted = Object.entries(filter.tags ?? {});
    for (const s of series.values()) {
      if (filter.measurement !== undefined && s.measurement !== filter.measurement) continue;
      if (wanted.every(([k, v]) => s.tags.some(([tk, tv]) => tk === k && tv === v))) yield s;
    }
  }
}

function seriesKey(measurement: string, tags: ReadonlyArray<[string, string]>): string {
  return JSON.stringify([measurement, tags]);
}

/** Formats nanoseconds since the epoch like Go's RFC3339Nano (trailing zeros dropped). */
export function rfc3339(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  let fraction = ns % 1_000_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000_000n;
    seconds -= 1n;
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = fraction === 0n ? '' : '.' + fraction.toString().padStart(9, '0').replace(/0+$/, '');
  return `${whole}${digits}Z`;
}
