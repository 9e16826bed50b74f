import { randomBytes } from 'node:crypto';

/** A `create`'s one-time ticket: the name it binds, to whom, and until when (ms on the node's clock). */
export interface RelayTicket {
  name: string;
  owner: string;
  expiresAt: number;
}

/**
 * The tickets that `create` answers and `attach` takes: 16 random bytes in
 * base64url, good once, for `ttl` ms. At most one waits per name (a new one
 * replaces it), and names are bounded: so are tickets.
 */
export class RelayTickets {
  private readonly byId = new Map<string, RelayTicket>();

  constructor(private readonly ttl: number) {}

  /** A new ticket for `name`, held by `owner`; the name's earlier one, and every expired one, are gone. */
  issue(name: string, owner: string, now: number): { id: string; expiresAt: number } {
    for (const [id, t] of this.byId) if (t.expiresAt <= now || t.name === name) this.byId.delete(id);
    const id = randomBytes(16).toString('base64url');
    const expiresAt = now + this.ttl;
    this.byId.set(id, { name, owner, expiresAt });
    return { id, expiresAt };
  }

  /** Takes ticket `id`, once: undefined when it is unknown, used or expired. */
  take(id: string, now: number): RelayTicket | undefined {
    const ticket = this.byId.get(id);
    this.byId.delete(id);
    return ticket === undefined || ticket.expiresAt <= now ? undefined : ticket;
  }

  /** Forgets the ticket waiting for `name`, if any. */
  dropFor(name: string): void {
    for (const [id, t] of this.byId) if (t.name === name) this.byId.delete(id);
  }

  /** The names with a ticket still waiting at `now`. */
  waitingNames(now: number): Set<string> {
    const names = new Set<string>();
    for (const t of this.byId.values()) if (t.expiresAt > now) names.add(t.name);
    return names;
  }

  clear(): void {
    this.byId.clear();
  }
}
