// A seeded pseudo-random generator (mulberry32): the same seed gives the same hostile
// input, so a failure can be replayed. The seed comes from TESSERA_RELIABILITY_SEED, or
// at random; a scenario prints it (and reports it as a figure).
import { randomInt } from 'node:crypto';

export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One of `weighted`'s keys, each with its weight's share of the chances. */
  weighted<K extends string>(weighted: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weighted) as [K, number][];
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) if ((r -= w) < 0) return key;
    return entries[entries.length - 1]![0];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE((this.next() * 4_294_967_296) >>> 0, i);
    for (; i < n; i++) b[i] = (this.next() * 256) | 0;
    return b;
  }

  hex(digits: number): string {
    return this.bytes(Math.ceil(digits / 2)).toString('hex').slice(0, digits);
  }

  /** A string of `n` characters from anywhere in the BMP but surrogates (some control characters, some non-ASCII). */
  text(n: number): string {
    const codes = new Uint16Array(n);
    for (let i = 0; i < n; i++) codes[i] = this.chance(0.8) ? this.int(0x20, 0x7e) : this.int(0, 0xd7ff);
    let s = '';
    for (let i = 0; i < n; i += 8_192) s += String.fromCharCode(...codes.subarray(i, i + 8_192));
    return s;
  }
}

/** The seed of this run: TESSERA_RELIABILITY_SEED if set (a whole number), else a random one. */
export function runSeed(): number {
  const given = process.env['TESSERA_RELIABILITY_SEED'];
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new Error('TESSERA_RELIABILITY_SEED must be a whole number from 0 to 4294967295');
    return n;
  }
  return randomInt(0, 0xffffffff);
}
