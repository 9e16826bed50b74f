// Lua scripts, each atomic on the server. KEYS are always keys of one namespace
// (one hash tag), so they run unchanged on Redis Cluster. Lease keys that a
// script finds through the due set are built from KEYS[1] by replacing its
// trailing "due" with "lease:<id>": same tag, same slot.

/** KEYS: lease, due. ARGV: id, due ms, then field, value, ... Replaces the whole hash. */
const save = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`;

/** KEYS: lease, due. ARGV: as save. Replaces the hash only if it exists and has no revocation pending or claimed; 1 if it did. */
const update = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revocation') == 1 or redis.call('HEXISTS', KEYS[1], 'claim') == 1 then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`;

/** KEYS: lease, due. ARGV: id. Returns 1 when the lease was there. */
const remove = `
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
`;

/** KEYS: lease, due. ARGV: id, next attempt ms, revocation JSON. Ends the claim. A lease that is gone stays gone. */
const reschedule = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HDEL', KEYS[1], 'claim')
redis.call('HSET', KEYS[1], 'revocation', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`;

/**
 * KEYS: due. ARGV: now ms, limit, claim end ms. Takes up to `limit` ids due at or
 * before now, earliest first, moves each to the claim's end (and records it in
 * the hash's `claim` field, which claimLease reads) and returns
 * [id, hash, id, hash, ...], each hash a flat field/value array. An id without a
 * hash is dropped from the set.
 */
const claim = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local base = string.sub(KEYS[1], 1, -4) .. 'lease:'
local claimed = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', base .. id)
  if #fields == 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('HSET', base .. id, 'claim', ARGV[3])
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    claimed[#claimed + 1] = id
    claimed[#claimed + 1] = fields
  end
end
return claimed
`;

/**
 * KEYS: lease, due. ARGV: id, now ms, claim end ms. Claims one lease for its
 * revocation whatever its due time, unless a claim on it (the hash's `claim`
 * field, set here or by the due claim) lasts past now: 0 when the lease is gone,
 * 1 when the claim is held, else the hash (before the claim field is set, as
 * the due claim returns it) after moving it to the claim's end.
 */
const claimLease = `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then
  return 0
end
local claim = redis.call('HGET', KEYS[1], 'claim')
if claim and tonumber(claim) > tonumber(ARGV[2]) then
  return 1
end
redis.call('HSET', KEYS[1], 'claim', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return fields
`;

/** KEYS: due. ARGV: ids. The hashes of those leases (an empty array for one that is gone). */
const getMany = `
local base = string.sub(KEYS[1], 1, -4) .. 'lease:'
local found = {}
for i, id in ipairs(ARGV) do
  found[i] = redis.call('HGETALL', base .. id)
end
return found
`;

/**
 * KEYS: meta. ARGV: cloud service, address, epoch. Records the namespace once, and an
 * epoch (a random value) when there is none; returns what is recorded. A changed epoch
 * means the data was lost (a restart that kept nothing) since it was last read.
 */
const namespace = `
redis.call('HSETNX', KEYS[1], 'cloudService', ARGV[1])
redis.call('HSETNX', KEYS[1], 'cloudServiceAddress', ARGV[2])
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[3])
return redis.call('HMGET', KEYS[1], 'cloudService', 'cloudServiceAddress', 'epoch')
`;

export const SCRIPTS = {
  tesseraSave: { lua: save, numberOfKeys: 2 },
  tesseraUpdate: { lua: update, numberOfKeys: 2 },
  tesseraRemove: { lua: remove, numberOfKeys: 2 },
  tesseraReschedule: { lua: reschedule, numberOfKeys: 2 },
  tesseraClaim: { lua: claim, numberOfKeys: 1 },
  tesseraClaimLease: { lua: claimLease, numberOfKeys: 2 },
  tesseraGetMany: { lua: getMany, numberOfKeys: 1, readOnly: true },
  tesseraNamespace: { lua: namespace, numberOfKeys: 1 },
} as const;

/** The commands SCRIPTS adds to a client (ioredis defineCommand). */
export interface ScriptCommands {
  tesseraSave(lease: string, due: string, id: string, dueMs: string, ...fields: string[]): Promise<number>;
  tesseraUpdate(lease: string, due: string, id: string, dueMs: string, ...fields: string[]): Promise<number>;
  tesseraRemove(lease: string, due: string, id: string): Promise<number>;
  tesseraReschedule(lease: string, due: string, id: string, dueMs: string, revocation: string): Promise<number>;
  tesseraClaim(due: string, nowMs: string, limit: string, untilMs: string): Promise<Array<string | string[]>>;
  tesseraClaimLease(lease: string, due: string, id: string, nowMs: string, untilMs: string): Promise<0 | 1 | string[]>;
  tesseraGetMany(due: string, ...ids: string[]): Promise<string[][]>;
  tesseraNamespace(meta: string, cloudService: string, address: string, epoch: string): Promise<Array<string | null>>;
}
