import { EventEmitter } from 'node:events';
import { type Clock, type Context, describeError, fromUtf8, type Logger, type Message, silentLogger, systemClock, type Worker } from '@tessera/core';
import { isIdentifier, issueCredential, type Signer } from '@tessera/secure-channel';
import { z } from 'zod';
import { failure, success, type AuthorityResponse } from './authority-response.js';
import { parseAuthorityRequest, requestIdOf, TokenOptionsSchema, type AuthorityRequest } from './authority-request.js';
import { newBootstrapToken, presentedReference, tokenHash, tokenReference } from './bootstrap-token.js';
import {
  AuthorityBusyError,
  AuthorityNotAllowedError,
  AuthorityQuotaError,
  InvalidAuthorityOptionsError,
  InvalidAuthorityRequestError,
  MemberNotFoundError,
} from './errors.js';
import { failureOf } from './failure.js';
import { InFlight } from './in-flight.js';
import { grantsAdmin, type Member, type Membership } from './member.js';
import type { MemberStore, Redemption, RefusalReason } from './member-store.js';
import { RefusalLog } from './refusal-log.js';

export interface AuthorityOptions {
  store: MemberStore;
  /** The hub's identity: it signs the credentials. */
  identity: Signer;
  /** Identifiers that are admins whether or not they are members. */
  admins?: Iterable<string>;
  /** Lifetime of a credential, ms (default 3,600,000: an hour; whole seconds, at least one, at most MAX_CREDENTIAL_TTL: 7 days). */
  credentialTtl?: number;
  /** Lifetime of a bootstrap token when create_token names none, ms (default 600,000: ten minutes). */
  tokenTtl?: number;
  /** Requests of one identity in flight at once; one more is answered quota_exceeded (default 8). */
  callerConcurrency?: number;
  /** Requests in flight over all identities; one more is answered unavailable (default 1,024). */
  concurrency?: number;
  /**
   * Milliseconds between the log's summary lines of refused enrollments (default 60,000): the first refusal
   * of each reason is logged at once, those that follow are counted and summed up at most once per interval.
   */
  refusalLogInterval?: number;
  clock?: Clock;
  /** Default: the node's logger once the worker runs. */
  logger?: Logger;
}

export interface AuthorityEvents {
  /** A membership ended (remove): the hub revokes what the identity holds. */
  removed: [identifier: string];
  enrolled: [{ identifier: string; reference: string }];
}

/**
 * The longest a credential may live, ms: 7 days. A member removed from this hub
 * keeps what its last credential grants wherever else that credential is
 * trusted until it expires (README, Removal), so this bounds that window.
 */
export const MAX_CREDENTIAL_TTL = 7 * 24 * 3_600_000;

/** Members listed per `members` answer, and the most bytes their JSON may take (a transport message is at most 1 MiB by default). */
export const MEMBERS_PAGE = { count: 1000, bytes: 512 * 1024 } as const;

const OptionsSchema = z.object({
  credentialTtl: z
    .number()
    .int()
    .min(1000, 'credentialTtl is at least 1000 ms')
    .max(MAX_CREDENTIAL_TTL, `credentialTtl is at most ${MAX_CREDENTIAL_TTL} ms (7 days)`)
    .default(3_600_000),
  tokenTtl: z.number().int().positive().max(30 * 24 * 3_600_000).default(600_000),
  callerConcurrency: z.number().int().positive().default(8),
  concurrency: z.number().int().positive().default(1024),
  refusalLogInterval: z.number().int().positive().default(60_000),
});

const ENROLL_REFUSED = 'the token is expired, used up or unknown, or this identity is already a member';

/**
 * The authority worker (docs/protocol.md §6), at LOCAL `authority` on a hub:
 * enrolls identities with bootstrap tokens, issues credentials to members and
 * lets admins make tokens, list and remove members. It takes requests only
 * through secure channels; each is answered at once or after one store call,
 * several at a time, at most `callerConcurrency` of one identity.
 */
export class Authority extends EventEmitter<AuthorityEvents> implements Worker {
  private readonly store: MemberStore;
  private readonly identity: Signer;
  private readonly admins: ReadonlySet<string>;
  private readonly credentialSeconds: number;
  private readonly tokenTtl: number;
  private readonly clock: Clock;
  private logger: Logger;
  private readonly loggerGiven: boolean;
  private readonly inFlight: InFlight;
  private readonly refusals: RefusalLog;

  constructor(options: AuthorityOptions) {
    super();
    const parsed = OptionsSchema.safeParse({
      credentialTtl: options.credentialTtl,
      tokenTtl: options.tokenTtl,
      callerConcurrency: options.callerConcurrency,
      concurrency: options.concurrency,
      refusalLogInterval: options.refusalLogInterval,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidAuthorityOptionsError(`authority: ${issue?.path.join('.') ?? 'options'}: ${issue?.message ?? 'invalid'}`);
    }
    const admins = Array.from(options.admins ?? []);
    const notIdentifier = admins.find((admin) => !isIdentifier(admin));
    if (notIdentifier !== undefined) throw new InvalidAuthorityOptionsError(`authority: admins: ${JSON.stringify(String(notIdentifier).slice(0, 80))} is not an identifier`);
    this.store = options.store;
    this.identity = options.identity;
    this.admins = new Set(admins);
    this.credentialSeconds = Math.floor(parsed.data.credentialTtl / 1000);
    this.tokenTtl = parsed.data.tokenTtl;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.inFlight = new InFlight({ perCaller: parsed.data.callerConcurrency, total: parsed.data.concurrency });
    this.loggerGiven = options.logger !== undefined;
    this.refusals = new RefusalLog({ logger: () => this.logger, clock: this.clock, interval: parsed.data.refusalLogInterval });
  }

  async initialize(ctx: Context): Promise<void> {
    if (!this.loggerGiven) this.logger = ctx.logger;
    await this.store.init();
  }

  /** Answers at once, or starts the answer and returns: the store call is awaited outside the mailbox. */
  handleMessage(ctx: Context, msg: Message): void {
    let text: string | undefined;
    try {
      text = fromUtf8(msg.payload);
    } catch {
      text = undefined;
    }
    const parsed = text === undefined ? { ok: false as const, message: 'invalid request: the payload is not UTF-8 text' } : parseAuthorityRequest(text);
    const requestId = requestIdOf(parsed);
    const caller = msg.local.identity;
    if (caller === undefined) {
      return this.reply(ctx, msg, failure(failureOf(new AuthorityNotAllowedError("a secure channel is required: open one to the hub's secure_channel listener")), requestId));
    }
    if (!parsed.ok) return this.reply(ctx, msg, failure({ code: 'invalid_request', message: parsed.message }, requestId));
    const admission = this.inFlight.start(caller);
    if (admission !== 'started') {
      const err =
        admission === 'caller-full'
          ? new AuthorityQuotaError('too many requests of this identity in flight')
          : new AuthorityBusyError('too many requests in flight; try again later');
      return this.reply(ctx, msg, failure(failureOf(err), requestId));
    }
    void this.answer(ctx, msg, caller, parsed.request).finally(() => this.inFlight.end(caller));
  }

  async shutdown(): Promise<void> {
    await this.inFlight.idle();
    this.refusals.flush();
  }

  /** Requests in flight now, and identities with any. */
  stats(): { running: number; callers: number } {
    return this.inFlight.stats();
  }

  /** Enrollments refused since start, by reason (the answer never says which; the log and /metrics do). */
  enrollRefusals(): Record<RefusalReason, number> {
    return this.refusals.counts();
  }

  /**
   * Who this identifier is now: an admin named in `admins` (attributes {} unless
   * also a member), a member (admin when its attributes have role=admin), or
   * undefined. Live: a removed member is undefined at once.
   */
  async membership(identifier: string): Promise<Membership | undefined> {
    if (!isIdentifier(identifier)) return undefined;
    const member = await this.store.member(identifier);
    const named = this.admins.has(identifier);
    if (member === undefined) return named ? { identifier, attributes: Object.freeze({}), admin: true } : undefined;
    return { identifier, attributes: member.attributes, admin: named || grantsAdmin(member.attributes) };
  }

  /** A bootstrap token made locally (the hub's CLI, tests, the demo): the same as the create_token action. */
  async createToken(options: { attributes: Record<string, string>; uses?: number; ttl?: number }): Promise<{ token: string; reference: string; expires: string }> {
    const parsed = TokenOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidAuthorityRequestError(`${issue?.path.join('.') || '(options)'}: ${issue?.message ?? 'invalid'}`);
    }
    const { attributes, uses = 1, ttl = this.tokenTtl } = parsed.data;
    const token = newBootstrapToken();
    const hash = tokenHash(token)!;
    const reference = tokenReference(hash);
    const now = this.clock.now();
    const expires = now + ttl;
    await this.store.addToken({ hash, reference, attributes, uses, expires }, now);
    this.logger.info({ reference, uses, expires: new Date(expires).toISOString(), attributes }, 'bootstrap token created');
    return { token, reference, expires: new Date(expires).toISOString() };
  }

  private async answer(ctx: Context, msg: Message, caller: string, request: AuthorityRequest): Promise<void> {
    let response: AuthorityResponse;
    try {
      response = await this.perform(caller, request);
    } catch (err) {
      response = failure(failureOf(err), request.request_id);
      if (response.code === 'internal' || response.code === 'unavailable') {
        this.logger.warn({ action: request.action, caller, err: describeError(err) }, 'authority request failed');
      }
    }
    this.reply(ctx, msg, response);
  }

  private async perform(caller: string, request: AuthorityRequest): Promise<AuthorityResponse> {
    const id = request.request_id;
    switch (request.action) {
      case 'enroll':
        return success(await this.enroll(caller, request.token), id);
      case 'credential': {
        const membership = await this.membership(caller);
        if (membership === undefined) throw new AuthorityNotAllowedError('this identity is not a member; enroll with a bootstrap token first');
        return success({ credential: await this.credentialFor(caller, membership.attributes) }, id);
      }
      case 'create_token': {
        await this.requireAdmin(caller, 'make bootstrap tokens');
        const { attributes, uses, ttl } = request;
        const made = await this.createToken({ attributes, ...(uses === undefined ? {} : { uses }), ...(ttl === undefined ? {} : { ttl }) });
        return success(made, id);
      }
      case 'members': {
        await this.requireAdmin(caller, 'list members');
        return success(await this.membersPage(request.after), id);
      }
      case 'remove': {
        await this.requireAdmin(caller, 'remove members');
        if (!(await this.store.remove(request.identifier))) throw new MemberNotFoundError(request.identifier);
        this.logger.info({ identifier: request.identifier, by: caller }, 'member removed');
        this.emitSafely('removed', request.identifier);
        return success({ identifier: request.identifier }, id);
      }
    }
  }

  private async enroll(caller: string, token: string): Promise<{ identifier: string; attributes: Readonly<Record<string, string>>; credential: string }> {
    const hash = tokenHash(token);
    const redemption: Redemption = hash === undefined ? { ok: false, reason: 'unknown' } : await this.store.redeem(hash, caller, this.clock.now());
    if (!redemption.ok) {
      // the log says why (an operator must hear of a full store), a flood of them in a line a minute; the answer does not, whatever the reason
      this.refusals.refused({ reference: redemption.reference ?? presentedReference(token), identifier: caller, reason: redemption.reason });
      throw new AuthorityNotAllowedError(ENROLL_REFUSED);
    }
    const { member, reference } = redemption;
    this.logger.info({ reference, identifier: caller, attributes: member.attributes }, 'member enrolled');
    this.emitSafely('enrolled', { identifier: caller, reference });
    return { identifier: caller, attributes: member.attributes, credential: await this.credentialFor(caller, member.attributes) };
  }

  private credentialFor(subject: string, attributes: Readonly<Record<string, string>>): Promise<string> {
    return issueCredential({ authority: this.identity, subject, attributes, ttlSeconds: this.credentialSeconds, clock: this.clock });
  }

  private async requireAdmin(caller: string, what: string): Promise<void> {
    const membership = await this.membership(caller);
    if (membership?.admin !== true) throw new AuthorityNotAllowedError(`only admins may ${what}`);
  }

  private async membersPage(after: string | undefined): Promise<{ members: Member[]; next?: string }> {
    const found = await this.store.members({ ...(after === undefined ? {} : { after }), limit: MEMBERS_PAGE.count + 1 });
    const members: Member[] = [];
    let bytes = 0;
    for (const member of found.slice(0, MEMBERS_PAGE.count)) {
      bytes += Buffer.byteLength(JSON.stringify(member)) + 1;
      if (bytes > MEMBERS_PAGE.bytes && members.length > 0) break;
      members.push(member);
    }
    const more = members.length < found.length;
    return more ? { members, next: members.at(-1)!.identifier } : { members };
  }

  private emitSafely<E extends keyof AuthorityEvents>(event: E, ...args: AuthorityEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: AuthorityEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error({ event, err: describeError(err) }, 'an authority event listener failed');
    }
  }

  private reply(ctx: Context, msg: Message, response: AuthorityResponse): void {
    try {
      ctx.reply(msg, JSON.stringify(response));
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'authority response could not be sent');
    }
  }
}
