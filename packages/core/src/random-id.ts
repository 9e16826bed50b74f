import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const ID_DIGITS = 16;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let digits = '';
let used = 0;

/**
 * 64 random bits as 16 hex digits, from the system's CSPRNG. Bytes are drawn
 * and hex-encoded 4 KiB at a time, so an id costs a slice of a string: as
 * cheap as a counter (bench/local-routing.bench.ts), but not guessable.
 */
export function randomId64(): string {
  if (used >= digits.length) {
    randomFillSync(pool);
    digits = pool.toString('hex');
    used = 0;
  }
  const id = digits.slice(used, used + ID_DIGITS);
  used += ID_DIGITS;
  return id;
}
