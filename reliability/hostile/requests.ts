// Generated requests for a hub's lease worker (docs/protocol.md §4) and authority (§6):
// wrong shapes, wrong types, huge fields, deep nesting, unknown actions, payloads that
// are not JSON, and now and then one that is well formed. Drawn from a seeded Prng.
import type { Prng } from './prng.js';

export type HubWorker = 'token_lease' | 'authority';

export interface HostileRequest {
  worker: HubWorker;
  payload: Buffer;
}

/**
 * A payload is cut to this: through a secure channel it may share one ciphertext with up to
 * 64 KiB of others (the channel's batching), and a hub closes a connection whose message
 * passes 256 KiB, which would end every channel on it.
 */
const MAX_PAYLOAD = 160 << 10;

const LEASE_ACTIONS = ['create', 'get', 'revoke', 'renew', 'list'];
const AUTHORITY_ACTIONS = ['enroll', 'credential', 'create_token', 'members', 'remove'];

/** A field value of any JSON type; now and then a huge one (long text, a long array, many keys). */
function anyValue(rng: Prng): unknown {
  if (rng.chance(0.03)) {
    switch (rng.int(0, 2)) {
      case 0:
        return rng.text(rng.int(1_000, rng.chance(0.2) ? 40_000 : 10_000));
      case 1:
        return Array.from({ length: rng.int(100, 5_000) }, () => rng.int(0, 9));
      default:
        return Object.fromEntries(Array.from({ length: rng.int(10, 2_000) }, (_, i) => [`k${i}`, rng.text(4)]));
    }
  }
  switch (rng.int(0, 8)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 60_000, 86_400_001, Number.MAX_SAFE_INTEGER]);
    case 3:
      return rng.text(rng.int(0, 40));
    case 4:
      return [anyValue(rng), anyValue(rng)];
    case 5:
      return { [rng.text(rng.int(0, 12))]: anyValue(rng) };
    case 6:
      return rng.hex(16); // looks like a token id
    case 7:
      return `I${rng.hex(64)}`; // looks like an identifier
    default:
      return { ttl: rng.pick([-1, 0, 999, 60_000, '60000', null, 1e12]), permissions: [{ action: rng.pick(['write', 'read', 'admin', '']), bucket: rng.text(rng.int(0, 20)) }] };
  }
}

/** `{"a":{"a":…1…}}` nested `depth` deep, as text (JSON.stringify would recurse as deep to make it). */
function deepJson(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function body(rng: Prng, actions: readonly string[], fields: readonly string[]): string {
  const action = rng.chance(0.8) ? rng.pick(actions) : anyValue(rng);
  const request: Record<string, unknown> = rng.chance(0.9) ? { action } : {};
  for (const field of fields) if (rng.chance(0.5)) request[field] = anyValue(rng);
  if (rng.chance(0.3)) request['request_id'] = anyValue(rng);
  if (rng.chance(0.1)) request[rng.text(rng.int(1, 20))] = anyValue(rng); // an unknown field
  let text = JSON.stringify(request);
  if (rng.chance(0.05)) text = text.replace(/^\{/, '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},');
  if (rng.chance(0.01)) text = text.replace(/^\{/, `{"nested":${deepJson(rng.int(100, 20_000))},`);
  return text;
}

/** One hostile request to the lease worker or the authority. */
export function hostileRequest(rng: Prng): HostileRequest {
  const worker: HubWorker = rng.chance(0.5) ? 'token_lease' : 'authority';
  const kind = rng.weighted({ json: 82, 'not-json': 8, 'not-an-object': 6, deep: 1, valid: 3 });
  let payload: Buffer;
  switch (kind) {
    case 'not-json':
      payload = rng.chance(0.5) ? rng.bytes(rng.int(0, 2_048)) : Buffer.from(body(rng, LEASE_ACTIONS, ['options']).slice(0, -rng.int(1, 5)));
      break;
    case 'not-an-object':
      payload = Buffer.from(JSON.stringify(rng.pick([[], [{ action: 'list' }], 'list', 42, null, true, ''])));
      break;
    case 'deep':
      payload = Buffer.from(rng.chance(0.5) ? deepJson(rng.int(1_000, 25_000)) : '['.repeat(rng.int(1_000, 150_000)));
      break;
    case 'valid':
      payload = Buffer.from(
        JSON.stringify(
          worker === 'token_lease'
            ? rng.pick([{ action: 'list' }, { action: 'create', options: { ttl: 60_000 } }, { action: 'get', token_id: rng.hex(16) }, { action: 'revoke', token_id: rng.hex(16) }])
            : rng.pick([{ action: 'credential' }, { action: 'enroll', token: rng.bytes(32).toString('base64url') }, { action: 'members' }]),
        ),
      );
      break;
    default:
      payload = Buffer.from(
        worker === 'token_lease'
          ? body(rng, LEASE_ACTIONS, ['options', 'token_id', 'ttl'])
          : body(rng, AUTHORITY_ACTIONS, ['token', 'attributes', 'uses', 'ttl', 'after', 'identifier']),
      );
  }
  return { worker, payload: payload.subarray(0, MAX_PAYLOAD) };
}
