import { IDENTIFIER_PATTERN } from '@tessera/secure-channel';
import { z } from 'zod';
import { InvalidAuthorityOptionsError, InvalidAuthorityRequestError } from './errors.js';
import type { Member } from './member.js';

/** An outstanding bootstrap token, as stored: never the token, only its hash. */
export interface TokenRecord {
  /** Hex SHA-256 of the token's bytes (tokenHash). */
  hash: string;
  /** What logs and admins see (tokenReference of the hash). */
  reference: string;
  /** What each member enrolled with this token gets. */
  attributes: Readonly<Record<string, string>>;
  /** Redemptions left, at least 1. */
  uses: number;
  /** When it stops redeeming, ms since the epoch. */
  expires: number;
}

/** Why a redemption was refused: for the hub's logs only, never for the caller (`full`: the store holds `maxMembers` members). */
export type RefusalReason = 'unknown' | 'expired' | 'used_up' | 'already_member' | 'full';

/** What redeem() did. */
export type Redemption =
  | { ok: true; member: Member; reference: string }
  | { ok: false; reason: RefusalReason; reference?: string };

/** A page of members() in identifier order: those after `after`, at most `limit`. */
export interface MemberPage {
  after?: string;
  limit?: number;
}

/**
 * Where the authority keeps its members and outstanding bootstrap tokens.
 * Times come from the caller (`now`, ms since the epoch), so a store has no
 * clock of its own. Every method may throw MemberStoreUnavailableError.
 */
export interface MemberStore {
  /** Loads or connects; idempotent, and the other methods call it themselves. */
  init(): Promise<void>;
  /**
   * Stores a new token, after dropping expired ones; AuthorityQuotaError when
   * `maxTokens` unexpired tokens are outstanding.
   */
  addToken(token: TokenRecord, now: number): Promise<void>;
  /**
   * Redeems a token for `identifier`, atomically: the token exists, has not
   * expired, has uses left and `identifier` is not a member yet; then one use
   * is spent and `identifier` becomes a member with the token's attributes,
   * enrolled at `now`. Of concurrent redemptions of a one-use token, exactly one
   * succeeds. When `maxMembers` are members it is refused (`full`) and spends
   * nothing. A refusal changes nothing that must be written (a store with a
   * file writes nothing for one), so refusals of every reason take alike.
   */
  redeem(hash: string, identifier: string, now: number): Promise<Redemption>;
  member(identifier: string): Promise<Member | undefined>;
  /** Members in identifier order, a page at a time (default: all of them). */
  members(page?: MemberPage): Promise<Member[]>;
  /** Ends a membership; true when there was one. */
  remove(identifier: string): Promise<boolean>;
  /** Writes what is pending and lets go of files and connections. */
  close(): Promise<void>;
}

/** How much a store holds at most. */
export interface MemberStoreLimits {
  /** Outstanding (unexpired, not used up) tokens (default 10,000). */
  maxTokens: number;
  /** Members (default 1,000,000). */
  maxMembers: number;
}

export const DEFAULT_MEMBER_STORE_LIMITS: MemberStoreLimits = { maxTokens: 10_000, maxMembers: 1_000_000 };

const LimitsSchema = z.object({
  maxTokens: z.number().int().positive().max(1_000_000).default(DEFAULT_MEMBER_STORE_LIMITS.maxTokens),
  maxMembers: z.number().int().positive().max(100_000_000).default(DEFAULT_MEMBER_STORE_LIMITS.maxMembers),
});

/** The limits in `options`, checked, with defaults. */
export function limitsOf(options: Partial<MemberStoreLimits>, store: string): MemberStoreLimits {
  const parsed = LimitsSchema.safeParse({ maxTokens: options.maxTokens, maxMembers: options.maxMembers });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidAuthorityOptionsError(`${store}: ${issue?.path.join('.') ?? 'limits'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Throws unless `identifier` is an identifier: stores build keys and JSON from it. */
export function checkIdentifier(identifier: string): void {
  if (typeof identifier !== 'string' || !IDENTIFIER_PATTERN.test(identifier)) throw new InvalidAuthorityRequestError('not an identifier');
}

/** Throws unless `hash` is a token hash (64 lowercase hex digits). */
export function checkTokenHash(hash: string): void {
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new InvalidAuthorityRequestError('not a token hash');
}
