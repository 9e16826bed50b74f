import { LatestWriter, loadSnapshot, type Logger, SECRET_MODE } from '@tessera/core';
import { AuthorityQuotaError, InvalidAuthorityOptionsError, MemberStoreUnavailableError } from './errors.js';
import { copyAttributes, type Member } from './member.js';
import { checkIdentifier, checkTokenHash, limitsOf, type MemberPage, type MemberStore, type MemberStoreLimits, type Redemption, type TokenRecord } from './member-store.js';
import { MemberSnapshotSchema, snapshotDirectory, type MemberSnapshot } from './memory-snapshot.js';

export interface MemoryMemberStoreOptions extends Partial<MemberStoreLimits> {
  /** A JSON file (mode 0600) loaded at init and rewritten after each change, so a restarted hub keeps its members and unused tokens. */
  snapshotPath?: string;
  /** Where a snapshot that could not be written is reported. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * A MemberStore in this process's memory, optionally kept in a snapshot file.
 * One process may use a snapshot file at a time. Every check-and-change runs
 * without an await in between, so redemptions are atomic.
 */
export function memoryMemberStore(options: MemoryMemberStoreOptions = {}): MemberStore {
  if (options.snapshotPath !== undefined && (typeof options.snapshotPath !== 'string' || options.snapshotPath === '')) {
    throw new InvalidAuthorityOptionsError('memory member store: snapshotPath must be a non-empty string');
  }
  return new MemoryMemberStore(limitsOf(options, 'memory member store'), options.snapshotPath, options.logger);
}

class MemoryMemberStore implements MemberStore {
  private readonly memberMap = new Map<string, Member>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** The identifiers in order, built when a page is asked for after a change. */
  private sorted: string[] | undefined;
  private readonly writer: LatestWriter | undefined;
  private loading: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly limits: MemberStoreLimits,
    private readonly snapshotPath: string | undefined,
    private readonly logger: Pick<Logger, 'warn'> | undefined,
  ) {
    this.writer = snapshotPath === undefined ? undefined : new LatestWriter(snapshotPath, SECRET_MODE);
  }

  init(): Promise<void> {
    if (this.closed) return Promise.reject(new MemberStoreUnavailableError('memory member store is closed'));
    this.loading ??= this.load();
    return this.loading;
  }

  async addToken(token: TokenRecord, now: number): Promise<void> {
    checkTokenHash(token.hash);
    await this.init();
    this.purgeExpired(now);
    if (this.tokens.size >= this.limits.maxTokens) throw new AuthorityQuotaError(`${this.limits.maxTokens} bootstrap tokens are outstanding`);
    this.tokens.set(token.hash, { ...token, attributes: copyAttributes(token.attributes) });
    await this.persist();
  }

  async redeem(hash: string, identifier: string, now: number): Promise<Redemption> {
    checkIdentifier(identifier);
    checkTokenHash(hash);
    await this.init();
    // from here to the change, no await: one redemption at a time. A refusal writes nothing, whatever
    // its reason, so none takes longer than another (an expired token goes from memory now, from the file
    // with the next change)
    const token = this.tokens.get(hash);
    if (token === undefined) return { ok: false, reason: 'unknown' };
    if (token.expires <= now) {
      this.tokens.delete(hash);
      return { ok: false, reason: 'expired', reference: token.reference };
    }
    if (this.memberMap.has(identifier)) return { ok: false, reason: 'already_member', reference: token.reference };
    if (this.memberMap.size >= this.limits.maxMembers) return { ok: false, reason: 'full', reference: token.reference };
    if (token.uses <= 1) this.tokens.delete(hash);
    else token.uses -= 1;
    const member: Member = { identifier, attributes: token.attributes, enrolledAt: new Date(now).toISOString() };
    this.memberMap.set(identifier, member);
    this.sorted = undefined;
    await this.persist();
    return { ok: true, member: { ...member }, reference: token.reference };
  }

  async member(identifier: string): Promise<Member | undefined> {
    await this.init();
    const member = this.memberMap.get(identifier);
    return member === undefined ? undefined : { ...member };
  }

  async members(page: MemberPage = {}): Promise<Member[]> {
    await this.init();
    this.sorted ??= Array.from(this.memberMap.keys()).sort();
    const ids = this.sorted;
    const start = page.after === undefined ? 0 : firstAfter(ids, page.after);
    const end = page.limit === undefined ? ids.length : Math.min(ids.length, start + page.limit);
    return ids.slice(start, end).map((id) => ({ ...this.memberMap.get(id)! }));
  }

  async remove(identifier: string): Promise<boolean> {
    await this.init();
    if (!this.memberMap.delete(identifier)) return false;
    this.sorted = undefined;
    await this.persist();
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer?.idle();
  }

  private purgeExpired(now: number): void {
    for (const [hash, token] of this.tokens) if (token.expires <= now) this.tokens.delete(hash);
  }

  private async load(): Promise<void> {
    if (this.snapshotPath === undefined) return;
    let snapshot: MemberSnapshot | undefined;
    try {
      snapshot = await loadSnapshot(this.snapshotPath, { schema: MemberSnapshotSchema });
    } catch (err) {
      // refuse to start rather than write an empty store over the operator's members
      this.loading = undefined;
      throw new MemberStoreUnavailableError(`member store snapshot ${(err as Error).message}; fix or move the file away`, { cause: err });
    }
    for (const member of snapshot?.members ?? []) this.memberMap.set(member.identifier, { ...member, attributes: copyAttributes(member.attributes) });
    for (const token of snapshot?.tokens ?? []) this.tokens.set(token.hash, { ...token, attributes: copyAttributes(token.attributes) });
  }

  /**
   * Writes the snapshot (the newest state, when changes come in a burst). A write
   * that fails is logged and made again with the next change: the state in memory
   * stays what the callers were told.
   */
  private async persist(): Promise<void> {
    const writer = this.writer;
    if (writer === undefined) return;
    const snapshot: MemberSnapshot = {
      format: 'tessera-authority',
      version: 1,
      members: Array.from(this.memberMap.values()),
      tokens: Array.from(this.tokens.values()),
    };
    try {
      await snapshotDirectory(writer.path);
      await writer.write(JSON.stringify(snapshot));
    } catch (err) {
      this.logger?.warn({ path: writer.path, err: (err as Error).message }, 'member store snapshot could not be written; writing again on the next change');
    }
  }
}

/** The index of the first identifier greater than `after` in sorted `ids`. */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (ids[mid]! <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}
