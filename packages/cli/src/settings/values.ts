import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

// The words YAML 1.1, systemd and most CLIs take for a switch. YAML 1.2 (the `yaml`
// package) reads `no` as the string "no", and JSON users write "false": both must
// mean false, and anything else must be an error, never "a non-empty string, so true".
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** A value as an error message may show it: short, quoted, on one line. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? (Array.isArray(value) ? 'a list' : 'an object') : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/** true or false from a boolean, 1/0, or one of true/false, yes/no, on/off, 1/0 (any case); undefined for anything else. */
export function booleanFrom(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
}

/** A whole number from a number, or from text that is only digits (with an optional sign); undefined for anything else ('' and 0x10 and 1e3 and true included). */
export function wholeNumberFrom(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string' || !/^\s*[+-]?\d{1,15}\s*$/.test(value)) return undefined;
  return Number(value);
}

/** A positive decimal number from a number or from text like `20` or `2.5`; undefined for anything else. */
export function positiveNumberFrom(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{1,15}(\.\d{1,15})?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A switch setting, the same from every source (flag value, env, JSON, YAML): see `booleanFrom`. */
export const BooleanSetting = z.unknown().transform((value, ctx): boolean => {
  const b = booleanFrom(value);
  if (b !== undefined) return b;
  ctx.addIssue({ code: 'custom', message: `expected true/false, yes/no, on/off or 1/0, got ${shown(value)}` });
  return z.NEVER;
});

/** A whole-number setting (e.g. milliseconds), the same from every source: see `wholeNumberFrom`. */
export const WholeNumberSetting = z.unknown().transform((value, ctx): number => {
  const n = wholeNumberFrom(value);
  if (n !== undefined) return n;
  ctx.addIssue({ code: 'custom', message: `expected a whole number, got ${shown(value)}` });
  return z.NEVER;
});

/** A commander argument parser from a strict reader: a value it refuses is a usage error (exit 2) naming the option or env variable. */
export function optionValue<T>(read: (text: string) => T | undefined, expected: string): (text: string) => T {
  return (text) => {
    const value = read(text);
    if (value === undefined) throw new InvalidArgumentError(`expected ${expected}.`);
    return value;
  };
}

/** For commander: a positive whole number (a count, or milliseconds). */
export const positiveWholeNumber = optionValue((text) => {
  const n = wholeNumberFrom(text);
  return n !== undefined && n > 0 ? n : undefined;
}, 'a positive whole number');

/** For commander: a positive number, decimals allowed (seconds). */
export const positiveNumber = optionValue(positiveNumberFrom, 'a positive number');
