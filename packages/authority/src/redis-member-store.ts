import type { Logger } from '@tessera/core';
import { Cluster, Redis } from 'ioredis';
import { AuthorityQuotaError, InvalidAuthorityOptionsError, MemberStoreUnavailableError } from './errors.js';
import { copyAttributes, MemberSchema, type Member } from './member.js';
import { checkIdentifier, checkTokenHash, limitsOf, type MemberPage, type MemberStore, type MemberStoreLimits, type Redemption, type RefusalReason, type TokenRecord } from './member-store.js';
import { MEMBER_SCRIPTS, type MemberScriptCommands } from './redis-scripts.js';

export interface RedisMemberStoreOptions extends Partial<MemberStoreLimits> {
  /**
   * A client (Redis or Cluster) the caller owns and closes, or a
   * `redis://` / `rediss://` URL for a client of the store's own.
   */
  redis: Redis | Cluster | string;
  /**
   * Before every key, e.g. `tessera:{<tag>}:auth:`. With a hash tag in it every
   * key is in one Cluster slot, as the scripts need.
   */
  keyPrefix: string;
  /** Where connection trouble of a client made from a URL is reported. */
  logger?: Pick<Logger, 'warn'>;
}

/** Members per round trip when all are listed (a Lua script may unpack at most a few thousand). */
const PAGE = 1000;

type Client = Redis & MemberScriptCommands;

/**
 * A MemberStore on Redis, shared by the hubs that use the same Redis and
 * prefix. Keys (P = keyPrefix):
 *
 *   P token:<hash>  hash: reference, attributes (JSON), uses, expires (ms); expires with the token
 *   P tokens        sorted set: token hashes by expiry (ms), to count and purge them
 *   P members       hash: identifier -> member JSON {identifier, attributes, enrolledAt}
 *   P member-ids    sorted set (all scores 0): identifiers, for pages in identifier order
 */
export function redisMemberStore(options: RedisMemberStoreOptions): MemberStore {
  if (typeof options.keyPrefix !== 'string' || options.keyPrefix === '') {
    throw new InvalidAuthorityOptionsError('redis member store: keyPrefix must be a non-empty string');
  }
  const limits = limitsOf(options, 'redis member store');
  if (typeof options.redis === 'string') {
    if (!/^rediss?:\/\//.test(options.redis)) throw new InvalidAuthorityOptionsError('redis member store: redis must be a client or a redis:// or rediss:// URL');
    const client = new Redis(options.redis, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 5000 });
    client.on('error', (err: unknown) => options.logger?.warn({ err: (err as Error).message }, 'member store: Redis connection error'));
    return new RedisMemberStore(client, true, options.keyPrefix, limits);
  }
  if (!(options.redis instanceof Redis) && !(options.redis instanceof Cluster)) {
    throw new InvalidAuthorityOptionsError('redis member store: redis must be an ioredis Redis or Cluster, or a URL');
  }
  return new RedisMemberStore(options.redis, false, options.keyPrefix, limits);
}

class RedisMemberStore implements MemberStore {
  private readonly client: Client;
  private readonly keys: { tokenPrefix: string; tokens: string; members: string; memberIds: string };
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(
    client: Redis | Cluster,
    private readonly owned: boolean,
    prefix: string,
    private readonly limits: MemberStoreLimits,
  ) {
    // Cluster has the same command API; typing it as Redis keeps the overloads resolvable.
    this.client = client as unknown as Client;
    for (const [name, definition] of Object.entries(MEMBER_SCRIPTS)) this.client.defineCommand(name, definition);
    this.keys = { tokenPrefix: `${prefix}token:`, tokens: `${prefix}tokens`, members: `${prefix}members`, memberIds: `${prefix}member-ids` };
  }

  init(): Promise<void> {
    if (this.closed) return Promise.reject(new MemberStoreUnavailableError('redis member store is closed'));
    if (!this.owned || this.client.status !== 'wait') return Promise.resolve();
    this.connecting ??= this.run(() => this.client.connect()).catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async addToken(token: TokenRecord, now: number): Promise<void> {
    checkTokenHash(token.hash);
    await this.init();
    const { tokenPrefix, tokens } = this.keys;
    const stored = await this.run(() =>
      this.client.tesseraAuthAddToken(
        tokenPrefix + token.hash,
        tokens,
        token.hash,
        token.reference,
        JSON.stringify(token.attributes),
        String(token.uses),
        String(token.expires),
        String(now),
        String(this.limits.maxTokens),
        tokenPrefix,
      ),
    );
    if (stored !== 1) throw new AuthorityQuotaError(`${this.limits.maxTokens} bootstrap tokens are outstanding`);
  }

  async redeem(hash: string, identifier: string, now: number): Promise<Redemption> {
    checkIdentifier(identifier);
    checkTokenHash(hash);
    await this.init();
    const { tokenPrefix, tokens, members, memberIds } = this.keys;
    const enrolledAt = new Date(now).toISOString();
    const [outcome, reference, json] = await this.run(() =>
      this.client.tesseraAuthRedeem(tokenPrefix + hash, tokens, members, memberIds, hash, identifier, String(now), enrolledAt, String(this.limits.maxMembers)),
    );
    if (outcome === 'ok') return { ok: true, member: decodeMember(json), reference: reference ?? '' };
    const reason = outcome as RefusalReason;
    return reference === undefined ? { ok: false, reason } : { ok: false, reason, reference };
  }

  async member(identifier: string): Promise<Member | undefined> {
    await this.init();
    const json = await this.run(() => this.client.hget(this.keys.members, identifier));
    return json === null ? undefined : decodeMember(json);
  }

  async members(page: MemberPage = {}): Promise<Member[]> {
    await this.init();
    const found: Member[] = [];
    let after = page.after;
    for (;;) {
      const want = page.limit === undefined ? PAGE : Math.min(PAGE, page.limit - found.length);
      if (want <= 0) return found;
      const start = after === undefined ? '-' : `(${after}`;
      const jsons = await this.run(() => this.client.tesseraAuthPage(this.keys.members, this.keys.memberIds, start, String(want)));
      // null: removed between the listing and the read, within the script it cannot be; kept for safety
      for (const json of jsons) if (json !== null) found.push(decodeMember(json));
      if (jsons.length < want) return found;
      after = found.at(-1)?.identifier ?? after;
    }
  }

  async remove(identifier: string): Promise<boolean> {
    await this.init();
    return (await this.run(() => this.client.tesseraAuthRemove(this.keys.members, this.keys.memberIds, identifier))) === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  /** Runs one request; a Redis failure becomes MemberStoreUnavailableError (without ioredis' error: it carries the command's arguments). */
  private async run<T>(request: () => Promise<T>): Promise<T> {
    if (this.closed) throw new MemberStoreUnavailableError('redis member store is closed');
    try {
      return await request();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new MemberStoreUnavailableError(`member store: Redis unavailable: ${message.slice(0, 200)}`);
    }
  }
}

function decodeMember(json: string | undefined): Member {
  let parsed;
  try {
    parsed = MemberSchema.safeParse(JSON.parse(json ?? ''));
  } catch {
    parsed = undefined;
  }
  if (parsed?.success !== true) throw new MemberStoreUnavailableError('member store: a member in Redis is corrupt');
  return { ...parsed.data, attributes: copyAttributes(parsed.data.attributes) };
}
