import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeError, type Logger } from '@tessera/core';
import { LeaseRejectedError } from '@tessera/lease-client';
import type { z } from 'zod';
import type { TokenRequest } from '../hub/hub-link.js';
import type { ViewState } from '../view/view-state.js';
import { CreateTokenBodySchema, MAX_BODY_BYTES, RemoveMemberBodySchema, RevokeBodySchema } from './api-schemas.js';
import type { EventStreams } from './event-stream.js';
import type { Logins } from './logins.js';
import { hostAllowed, sameOrigin, sessionOf } from './request-guard.js';
import type { PageFile } from './static-files.js';

/** What the page's buttons do, as the admin. */
export interface ConsoleActions {
  revoke(leaseId: string): Promise<void>;
  removeMember(identifier: string): Promise<void>;
  createToken(request: TokenRequest): Promise<{ token: string; reference: string; expires: string }>;
}

export interface ConsoleServerParts {
  logins: Logins;
  streams: EventStreams;
  page: Map<string, PageFile>;
  actions: ConsoleActions;
  /** The view a page starts from. */
  view: () => ViewState;
  /** Host values answered (allowedHosts; known once the server listens). */
  hosts: () => Set<string>;
  /** The session cookie's name (sessionCookie of the port; known once the server listens). */
  cookie: () => string;
  /** Called after each login with the next login link's token. */
  onLogin: () => void;
  logger: Logger;
}

/** Headers of every answer: nothing from elsewhere, no framing, no referrer (the login link holds a secret). */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A refusal of the API, with the status to answer. */
class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The status an answer of the hub's becomes (docs/protocol.md §4 codes). */
const STATUS_OF_CODE: Record<string, number> = { invalid_request: 400, not_found: 404, not_allowed: 403, quota_exceeded: 429 };

/**
 * The console's HTTP server (node:http): the page's files, the one-time login
 * (`/login?token=…` → an HttpOnly SameSite=Strict cookie), and the API: a
 * stream of the view (server-sent events, `/api/events`) and the admin's
 * actions (POST, JSON, each body read with its zod schema). Every request
 * must name one of the console's hosts; every API request needs the login's
 * cookie (401 without); every POST must come from the console's own origin
 * (403 otherwise). Nothing it sends holds a lease's value.
 */
export function consoleServer(parts: ConsoleServerParts): Server {
  const server = createServer((req, res) => {
    handle(parts, req, res).catch((err: unknown) => {
      parts.logger.warn({ err: describeError(err) }, 'console request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error: the console’s log says why' });
      else res.end();
    });
  });
  server.maxConnections = 64;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

async function handle(parts: ConsoleServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostAllowed(req, parts.hosts())) return json(res, 421, { error: 'this console answers only to its own address' });
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/login') return login(parts, url, res);
  if (req.method === 'GET' && parts.page.has(path)) {
    const file = parts.page.get(path)!;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' }).end(file.body);
    return;
  }
  if (req.method === 'GET' && path === '/') {
    res.writeHead(500, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('the console’s page is not built: run npm run build\n');
    return;
  }
  if (!path.startsWith('/api/')) return json(res, 404, { error: 'not found' });
  if (!parts.logins.valid(sessionOf(req, parts.cookie()))) return json(res, 401, { error: 'log in first: open the login link `tessera console` printed' });
  if (req.method === 'GET' && path === '/api/events') {
    if (!parts.streams.add(res, SECURITY_HEADERS, { event: 'view', data: parts.view() })) json(res, 503, { error: 'too many pages open on this console' });
    return;
  }
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  if (!sameOrigin(req, parts.hosts())) return json(res, 403, { error: 'refused: a change must come from the console’s own page (Origin)' });
  try {
    const answer = await act(parts.actions, path, req);
    json(res, 200, answer);
  } catch (err) {
    if (err instanceof ApiRefusal) return json(res, err.status, { error: err.message });
    if (err instanceof LeaseRejectedError) return json(res, STATUS_OF_CODE[err.reason] ?? 502, { error: err.message, code: err.reason });
    parts.logger.warn({ path, err: describeError(err) }, 'a console action failed');
    json(res, 503, { error: `the hub did not do it: ${describeError(err).message}` });
  }
}

function login(parts: ConsoleServerParts, url: URL, res: ServerResponse): void {
  const session = parts.logins.exchange(url.searchParams.get('token') ?? '');
  if (session === undefined) {
    res.writeHead(401, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('this login link is used or wrong: open the newest one `tessera console` printed\n');
    return;
  }
  parts.onLogin();
  res
    .writeHead(303, {
      ...SECURITY_HEADERS,
      location: '/',
      'set-cookie': `${parts.cookie()}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      'cache-control': 'no-store',
    })
    .end();
}

async function act(actions: ConsoleActions, path: string, req: IncomingMessage): Promise<object> {
  switch (path) {
    case '/api/revoke': {
      const { id } = await body(req, RevokeBodySchema);
      await actions.revoke(id);
      return { revoked: id };
    }
    case '/api/members/remove': {
      const { identifier } = await body(req, RemoveMemberBodySchema);
      await actions.removeMember(identifier);
      return { removed: identifier };
    }
    case '/api/tokens': {
      const { attributes, uses, ttlMinutes } = await body(req, CreateTokenBodySchema);
      // shown once, kept nowhere: the answer is the only copy
      return await actions.createToken({ attributes, uses, ttl: ttlMinutes === undefined ? undefined : ttlMinutes * 60_000 });
    }
    default:
      throw new ApiRefusal(404, 'not found');
  }
}

/** The request's JSON body read with `schema` (at most MAX_BODY_BYTES, `application/json` only). */
async function body<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.output<S>> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new ApiRefusal(415, 'the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiRefusal(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiRefusal(400, 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiRefusal(400, `invalid request: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function json(res: ServerResponse, status: number, value: object): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(value));
}
