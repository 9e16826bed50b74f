import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The session cookie's name for a console on `port`. A browser sends a
 * host's cookies to every port of it, so each console names its own (as
 * Jupyter does): a login to one on another port does not replace this one's.
 */
export function sessionCookie(port: number): string {
  return `tessera_console_${port}`;
}

export interface LoginLimits {
  /** Browsers logged in at once; one more logs the longest-ago out (default 16). */
  maxSessions: number;
  /** Milliseconds a login lasts (default 12 hours). */
  sessionTtl: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxSessions: 16, sessionTtl: 12 * 3_600_000 };

/**
 * Who may use the console's API (as Jupyter does it): a one-time login token,
 * printed at start in a link, is exchanged once for a session kept in an
 * HttpOnly, SameSite=Strict cookie; each exchange spends the token and makes
 * the next one (for another browser). Neither ever reaches a log line.
 */
export class Logins {
  #token = newSecret();
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** The login token to put in the next link. */
  get token(): string {
    return this.#token;
  }

  /** A new session for the right token (which is then spent); undefined otherwise. */
  exchange(presented: string): string | undefined {
    if (!sameSecret(presented, this.#token)) return undefined;
    this.#token = newSecret();
    const session = newSecret();
    this.sessions.set(session, this.now() + this.limits.sessionTtl);
    for (const [id, expires] of this.sessions) {
      if (this.sessions.size <= this.limits.maxSessions && expires > this.now()) break;
      this.sessions.delete(id);
    }
    return session;
  }

  /** True for a session that exists and has not expired. */
  valid(session: string | undefined): boolean {
    if (session === undefined) return false;
    const expires = this.sessions.get(session);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(session);
      return false;
    }
    return true;
  }
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
