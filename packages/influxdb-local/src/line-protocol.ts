import { defineError } from '@tessera/core';

/** A field value as line protocol types it: float → number, integer and unsigned → bigint. */
export type FieldValue = number | bigint | string | boolean;

/** The timestamp units the write endpoint accepts. */
export const PRECISIONS = ['ns', 'us', 'ms', 's'] as const;
export type Precision = (typeof PRECISIONS)[number];

const NANOS_PER: Record<Precision, bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
// InfluxDB's MinNanoTime and MaxNanoTime: the int64 range less the two values it reserves.
const MIN_NANOS = -9_223_372_036_854_775_806n;
const MAX_NANOS = 9_223_372_036_854_775_806n;
const MAX_INT64 = 9_223_372_036_854_775_807n;
const MAX_UINT64 = 18_446_744_073_709_551_615n;

/** One parsed point, its timestamp in nanoseconds. */
export interface ParsedPoint {
  measurement: string;
  /** Tag pairs sorted by key. */
  tags: Array<[string, string]>;
  fields: Map<string, FieldValue>;
  time: bigint;
}

export interface ParseResult {
  points: ParsedPoint[];
  /** One `unable to parse '<line>': <reason>` per bad line, as InfluxDB words them. */
  errors: string[];
}

/** One line is not line protocol; the parser reports it and goes on with the next. */
const LineError = defineError('LineError', 'INVALID_LINE');

const SPACE = 0x20;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const TAB = 0x09;

/**
 * Parses a line protocol body. Blank lines and `#` comments are skipped; a point
 * without a timestamp gets `now` (nanoseconds, truncated to the precision).
 */
export function parseLineProtocol(body: string, precision: Precision, now: bigint): ParseResult {
  const unit = NANOS_PER[precision];
  const defaultTime = (now / unit) * unit;
  const parser = new LineParser(unit, defaultTime);
  const points: ParsedPoint[] = [];
  const errors: string[] = [];
  for (const raw of splitLines(body)) {
    let start = 0;
    while (start < raw.length && isBlank(raw.charCodeAt(start))) start++;
    if (start === raw.length || raw.charCodeAt(start) === HASH) continue;
    let line = start === 0 ? raw : raw.slice(start);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    try {
      points.push(parser.parse(line));
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      errors.push(`unable to parse '${line}': ${err.message}`);
    }
  }
  return { points, errors };
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === 0;
}

/**
 * Splits a body into lines. A newline inside a quoted string field value does not
 * end a line; quotes only count once the field section (after the first unescaped
 * space) has begun and right after a `=`.
 */
export function splitLines(body: string): string[] {
  const lines: string[] = [];
  let start = 0;
  let inFields = false;
  let quoted = false;
  let afterEquals = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) quoted = false;
      continue;
    }
    if (c === 0x0a) {
      lines.push(body.slice(start, i));
      start = i + 1;
      inFields = false;
      afterEquals = false;
      continue;
    }
    if (c === BACKSLASH) {
      if (body.charCodeAt(i + 1) !== 0x0a) i++;
      afterEquals = false;
      continue;
    }
    if (!inFields) {
      if (c === SPACE) inFields = true;
      continue;
    }
    if (c === QUOTE && afterEquals) quoted = true;
    afterEquals = c === EQUALS;
  }
  if (start < body.length) lines.push(body.slice(start));
  return lines;
}

/**
 * Parses one line. Kept allocation-light (a cursor instead of returned tuples, inline
 * character tests instead of callbacks): it runs once per point written.
 */
class LineParser {
  private line = '';
  private pos = 0;

  constructor(
    private readonly unit: bigint,
    private readonly defaultTime: bigint,
  ) {}

  parse(line: string): ParsedPoint {
    this.line = line;
    this.pos = 0;
    const measurement = this.name(false);
    if (measurement === '') throw new LineError('missing measurement');
    const tags: Array<[string, string]> = [];
    while (line.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.name(true);
      if (key === '') throw new LineError('missing tag key');
      if (line.charCodeAt(this.pos) !== EQUALS) throw new LineError('missing tag value');
      this.pos++;
      const value = this.name(true);
      if (value === '') throw new LineError('missing tag value');
      if (line.charCodeAt(this.pos) === EQUALS) throw new LineError('invalid tag format');
      tags.push([key, value]);
    }
    if (tags.length > 1) {
      tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (let t = 1; t < tags.length; t++) if (tags[t]![0] === tags[t - 1]![0]) throw new LineError('duplicate tags');
    }

    while (line.charCodeAt(this.pos) === SPACE) this.pos++;
    if (this.pos >= line.length) throw new LineError('missing fields');
    const fields = new Map<string, FieldValue>();
    for (;;) {
      const key = this.name(true);
      if (key === '') throw new LineError('missing field key');
      if (line.charCodeAt(this.pos) !== EQUALS) throw new LineError('invalid field format');
      this.pos++;
      fields.set(key, this.fieldValue());
      if (line.charCodeAt(this.pos) !== COMMA) break;
      this.pos++;
    }
    return { measurement, tags, fields, time: this.timestamp() };
  }

  /**
   * Reads a measurement (stops at unescaped `,` or space) or a key or tag value (also
   * stops at `=`), unescaping those characters; other backslashes stay as they are.
   */
  private name(equalsStops: boolean): string {
    const line = this.line;
    let out = '';
    let chunk = this.pos;
    let i = this.pos;
    while (i < line.length) {
      const c = line.charCodeAt(i);
      if (c === BACKSLASH && i + 1 < line.length) {
        const next = line.charCodeAt(i + 1);
        if (next === COMMA || next === SPACE || (equalsStops && next === EQUALS)) {
          out += line.slice(chunk, i);
          chunk = i + 1;
        }
        i += 2;
        continue;
      }
      if (c === COMMA || c === SPACE || (equalsStops && c === EQUALS)) break;
      i++;
    }
    this.pos = i;
    return chunk === 0 && out === '' ? line.slice(0, i) : out + line.slice(chunk, i);
  }

  private fieldValue(): FieldValue {
    const line = this.line;
    if (line.charCodeAt(this.pos) === QUOTE) return this.quoted();
    const from = this.pos;
    let end = from;
    while (end < line.length) {
      const c = line.charCodeAt(end);
      if (c === COMMA || c === SPACE) break;
      end++;
    }
    if (end === from) throw new LineError('missing field value');
    this.pos = end;
    return scalar(line.slice(from, end));
  }

  private quoted(): string {
    const line = this.line;
    let out = '';
    let chunk = this.pos + 1;
    for (let i = chunk; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === BACKSLASH) {
        const next = line.charCodeAt(i + 1);
        if (next === QUOTE || next === BACKSLASH) {
          out += line.slice(chunk, i);
          chunk = i + 1;
          i++;
        }
        continue;
      }
      if (c === QUOTE) {
        const after = line.charCodeAt(i + 1);
        if (i + 1 < line.length && after !== COMMA && after !== SPACE) throw new LineError('invalid field format');
        this.pos = i + 1;
        return out + line.slice(chunk, i);
      }
    }
    throw new LineError('unbalanced quotes');
  }

  private timestamp(): bigint {
    const line = this.line;
    let i = this.pos;
    while (line.charCodeAt(i) === SPACE) i++;
    if (i >= line.length) return this.defaultTime;
    let end = i;
    while (end < line.length && line.charCodeAt(end) !== SPACE) end++;
    for (let rest = end; rest < line.length; rest++) if (line.charCodeAt(rest) !== SPACE) throw new LineError('bad timestamp');
    const token = line.slice(i, end);
    if (!TIMESTAMP.test(token)) throw new LineError('bad timestamp');
    const time = this.unit === 1n ? BigInt(token) : BigInt(token) * this.unit;
    if (time < MIN_NANOS || time > MAX_NANOS) throw new LineError('time outside range');
    return time;
  }
}

const TIMESTAMP = /^-?\d{1,19}$/;
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^-?\d+$/;
const UNSIGNED = /^\d+$/;

function scalar(token: string): FieldValue {
  const first = token.charCodeAt(0);
  const numeric = (first >= 0x30 && first <= 0x39) || first === 0x2d || first === 0x2e;
  if (!numeric) {
    switch (token) {
      case 't': case 'T': case 'true': case 'True': case 'TRUE':
        return true;
      case 'f': case 'F': case 'false': case 'False': case 'FALSE':
        return false;
      default:
        throw new LineError('invalid boolean');
    }
  }
  const last = token.charCodeAt(token.length - 1);
  if (last === 0x69 /* i */) {
    const digits = token.slice(0, -1);
    if (!INTEGER.test(digits)) throw new LineError('invalid number');
    const n = BigInt(digits);
    if (n > MAX_INT64 || n < -MAX_INT64 - 1n) throw new LineError(`unable to parse integer ${digits}: value out of range`);
    return n;
  }
  if (last === 0x75 /* u */) {
    const digits = token.slice(0, -1);
    if (!UNSIGNED.test(digits)) throw new LineError('invalid number');
    const n = BigInt(digits);
    if (n > MAX_UINT64) throw new LineError(`unable to parse unsigned ${digits}: value out of range`);
    return n;
  }
  if (!FLOAT.test(token)) throw new LineError('invalid number');
  const n = Number(token);
  if (!Number.isFinite(n)) throw new LineError(`unable to parse floating point value ${token}: value out of range`);
  return n;
}
