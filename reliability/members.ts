// Identities at a secure hub, in the scenario's process: an admin (named by the hub's
// --admin), members enrolled with one bootstrap token the admin makes, and strangers
// that are no members. Each talks to the hub through a HubSession (a secure channel)
// from one client node; every key and token is a secret in the evidence.
import { local, Node, type Route } from '@tessera/core';
import { HubSession } from '@tessera/lease-client';
import { Ed25519Identity } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { z } from 'zod';
import type { Evidence } from './evidence.js';

const CreatedTokenSchema = z.looseObject({ result: z.literal('success'), token: z.string().min(1) });
const LeaseValueSchema = z.looseObject({ value: z.string() });
const AnswerSchema = z.looseObject({
  result: z.enum(['success', 'failure']),
  code: z.string().optional(),
  lease: LeaseValueSchema.optional(),
  leases: z.array(LeaseValueSchema).optional(),
});
/** A hub's JSON answer (docs/protocol.md §4, §6), as far as a scenario reads it. */
export type HubAnswer = z.output<typeof AnswerSchema>;

export interface HubClients {
  /** The client node (one WebSocket connection to the hub, shared by its sessions). */
  node: Node;
  /** The route to the hub's lease worker over that connection. */
  hubRoute: Route;
  /**
   * A session as `identity` (default a fresh one): a member once `enrollToken` is redeemed (on
   * first use), else as the hub knows it (an admin named by --admin, or a stranger).
   */
  session(label: string, options?: { identity?: Ed25519Identity; enrollToken?: string; via?: Route }): { session: HubSession; identity: Ed25519Identity };
  /** Closes every session and stops the node. */
  close(): Promise<void>;
}

/** A client node for the hub at `hubUrl` (ws://…) whose identity is `hubIdentifier`. */
export async function hubClients(evidence: Evidence, hubUrl: string, hubIdentifier: string, requestTimeout = 10_000): Promise<HubClients> {
  const node = new Node({ name: 'reliability-client', requestTimeout });
  new WebSocketTransport(node);
  const hubRoute = routeTo(hubUrl, 'token_lease');
  const sessions: HubSession[] = [];
  return {
    node,
    hubRoute,
    session(label, options = {}) {
      const identity = options.identity ?? Ed25519Identity.generate();
      evidence.identity(label, identity);
      const session = new HubSession({
        node,
        // a route through a hop of the caller's (`via`) first, if given
        hub: options.via === undefined ? hubRoute : [...options.via, ...hubRoute],
        identity,
        hubIdentifier,
        enrollToken: options.enrollToken,
        credential: options.enrollToken === undefined ? 'if-member' : 'required',
        requestTimeout,
      });
      sessions.push(session);
      return { session, identity };
    },
    async close() {
      for (const s of sessions) s.close();
      await node.stop();
    },
  };
}

/**
 * An admin session (its identity must be one of the hub's --admin) makes a bootstrap
 * token for `uses` members with `attributes`; the token is a secret in the evidence.
 */
export async function bootstrapToken(evidence: Evidence, admin: HubSession, uses: number, attributes: Record<string, string> = { role: 'device' }): Promise<string> {
  const reply = await admin.request('authority', JSON.stringify({ action: 'create_token', attributes, uses, ttl: 600_000 }));
  const parsed = CreatedTokenSchema.safeParse(JSON.parse(Buffer.from(reply.payload).toString('utf8')));
  if (!parsed.success) throw new Error('the hub made no bootstrap token (create_token did not succeed)');
  evidence.secret('a bootstrap token', parsed.data.token);
  return parsed.data.token;
}

/** The LOCAL address `name` as the last hop of a route to the hub (e.g. `authority`). */
export function worker(hubRoute: Route, name: string): Route {
  return [...hubRoute.slice(0, -1), local(name)];
}

/** The hub's answer in `payload`, every lease token in it a secret in the evidence; undefined if it is not one. */
export function readAnswer(evidence: Evidence, payload: Uint8Array): HubAnswer | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = AnswerSchema.safeParse(json);
  if (!parsed.success) return undefined;
  for (const lease of [parsed.data.lease, ...(parsed.data.leases ?? [])]) if (lease !== undefined && lease.value.length >= 16) evidence.secret('a lease token', lease.value);
  return parsed.data;
}

/** A member asking for its leases every `everyMs` until stopped (a normal client beside an attack): requests served and failed. */
export function keepAsking(evidence: Evidence, session: HubSession, everyMs: number): { stop(): Promise<{ served: number; failed: number }> } {
  let served = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const reply = await session.request('token_lease', JSON.stringify({ action: 'list' }));
        if (readAnswer(evidence, reply.payload)?.result === 'success') served++;
        else failed++;
      } catch {
        failed++;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { served, failed };
    },
  };
}
