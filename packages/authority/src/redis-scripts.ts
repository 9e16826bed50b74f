// Lua scripts of redisMemberStore, each atomic on the server. Every key they
// touch starts with the store's keyPrefix; with a hash tag in the prefix they
// are all in one Cluster slot. Token keys found through the token set are
// built from ARGV's token key prefix, in the same slot.

/**
 * KEYS: token, tokens. ARGV: hash, reference, attributes JSON, uses, expires ms,
 * now ms, max tokens, token key prefix. Drops expired tokens, then stores the
 * token unless max tokens are outstanding; 1 when stored.
 */
const addToken = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
for _, hash in ipairs(expired) do
  redis.call('DEL', ARGV[8] .. hash)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'reference', ARGV[2], 'attributes', ARGV[3], 'uses', ARGV[4], 'expires', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return 1
`;

/**
 * KEYS: token, tokens, members, member ids. ARGV: hash, identifier, now ms,
 * enrolledAt (ISO), max members. Refuses with {reason, reference} or redeems:
 * one use spent (the token dropped with its last), the member added, and
 * {'ok', reference, member JSON} returned.
 */
const redeem = `
local t = redis.call('HMGET', KEYS[1], 'uses', 'expires', 'attributes', 'reference')
if not t[1] then
  return {'unknown'}
end
local uses = tonumber(t[1])
if tonumber(t[2]) <= tonumber(ARGV[3]) or uses < 1 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  if uses < 1 then
    return {'used_up', t[4]}
  end
  return {'expired', t[4]}
end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then
  return {'already_member', t[4]}
end
if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[5]) then
  return {'full', t[4]}
end
if uses == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HINCRBY', KEYS[1], 'uses', -1)
end
local member = '{"identifier":"' .. ARGV[2] .. '","attributes":' .. t[3] .. ',"enrolledAt":"' .. ARGV[4] .. '"}'
redis.call('HSET', KEYS[3], ARGV[2], member)
redis.call('ZADD', KEYS[4], 0, ARGV[2])
return {'ok', t[4], member}
`;

/** KEYS: members, member ids. ARGV: identifier. 1 when it was a member. */
const remove = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
`;

/** KEYS: members, member ids. ARGV: lex start ('-' or '(' .. after), limit. The member JSONs of a page, in identifier order. */
const page = `
local ids = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then
  return {}
end
return redis.call('HMGET', KEYS[1], unpack(ids))
`;

export const MEMBER_SCRIPTS = {
  tesseraAuthAddToken: { lua: addToken, numberOfKeys: 2 },
  tesseraAuthRedeem: { lua: redeem, numberOfKeys: 4 },
  tesseraAuthRemove: { lua: remove, numberOfKeys: 2 },
  tesseraAuthPage: { lua: page, numberOfKeys: 2, readOnly: true },
} as const;

/** The commands MEMBER_SCRIPTS adds to a client (ioredis defineCommand). */
export interface MemberScriptCommands {
  tesseraAuthAddToken(token: string, tokens: string, hash: string, reference: string, attributes: string, uses: string, expires: string, now: string, maxTokens: string, tokenPrefix: string): Promise<number>;
  tesseraAuthRedeem(token: string, tokens: string, members: string, memberIds: string, hash: string, identifier: string, now: string, enrolledAt: string, maxMembers: string): Promise<string[]>;
  tesseraAuthRemove(members: string, memberIds: string, identifier: string): Promise<number>;
  tesseraAuthPage(members: string, memberIds: string, start: string, limit: string): Promise<Array<string | null>>;
}
