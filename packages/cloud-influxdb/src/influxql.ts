// Quoting for InfluxQL statements and line protocol. Every value that reaches a
// statement goes through one of these, so no option can change its meaning.

/** Characters InfluxQL cannot carry inside a quoted identifier or string (no escape exists for them). */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A double-quoted InfluxQL identifier (`"` and `\` escaped). */
export function quoteIdentifier(name: string): string {
  assertPrintable(name);
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A single-quoted InfluxQL string literal (`'` and `\` escaped). */
export function quoteString(value: string): string {
  assertPrintable(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A line-protocol tag key or value, or measurement name (commas, `=`, spaces escaped). */
export function escapeTag(value: string): string {
  assertPrintable(value);
  return value.replace(/\\/g, '\\\\').replace(/([,= ])/g, '\\$1');
}

/** A line-protocol string field value, quotes included. */
export function quoteField(value: string): string {
  assertPrintable(value);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function assertPrintable(value: string): void {
  // Callers validate first; this is the last line of defence, so its message names no value.
  if (CONTROL_CHARACTERS.test(value)) throw new TypeError('InfluxQL text must not contain control characters');
}
