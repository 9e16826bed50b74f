import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrap, type TokenOrigin } from './bootstrap.js';
import { ApiError } from './errors.js';
import { ClientGoneError, errorReply, sendReply } from './http.js';
import { looksLikeId, newId, newToken } from './ids.js';
import { type AccessLogEntry, resolveOptions, type InfluxdbLocalOptions } from './options.js';
import { PersistFileError, readPersistFile, SnapshotWriter } from './persistence.js';
import type { LocalPoint } from './points.js';
import type { BucketRecord } from './records.js';
import { Router } from './router.js';
import { authorizationRoutes } from './routes/authorizations.js';
import { bucketRoutes } from './routes/buckets.js';
import { healthRoutes } from './routes/health.js';
import { localRoutes } from './routes/local.js';
import { orgRoutes } from './routes/orgs.js';
import { writeRoutes } from './routes/write.js';
import { Store } from './store.js';
import { INFLUXDB_VERSION } from './version.js';

/** Which points `points()` and `countPoints()` read: by default the server's own org and bucket. */
export interface PointQuery {
  /** Org name (default: the server's org). */
  org?: string;
  /** Bucket name or id (default: the server's bucket). */
  bucket?: string;
  measurement?: string;
  /** Every tag given must match. */
  tags?: Record<string, string>;
}

/** A running influxdb-local server. */
export interface InfluxdbLocal {
  /** `http://host:port`, to give to InfluxDB clients. */
  url: string;
  org: string;
  orgID: string;
  bucket: string;
  bucketID: string;
  /** The operator (all-access) token. */
  token: string;
  /** The points stored, oldest first (not part of the InfluxDB API). */
  points(query?: PointQuery): LocalPoint[];
  /** How many points `points(query)` would return. */
  countPoints(query?: PointQuery): number;
  /** Requests served per route, keyed like `DELETE /api/v2/authorizations/{authID}`. */
  stats(): Record<string, number>;
  /** Stops listening, ends connections, writes the persist file; resolves when done. */
  close(): Promise<void>;
}

/** A started server and what the command line reports about it. */
export interface Launched {
  server: InfluxdbLocal;
  tokenOrigin: TokenOrigin;
  /** Whether state was loaded from the persist file. */
  restored: boolean;
}

const routes = [...healthRoutes, ...orgRoutes, ...bucketRoutes, ...authorizationRoutes, ...writeRoutes, ...localRoutes];

/** Starts an InfluxDB-v2-compatible server for development and tests. */
export async function startInfluxdbLocal(options: InfluxdbLocalOptions = {}): Promise<InfluxdbLocal> {
  return (await launchInfluxdbLocal(options)).server;
}

/** startInfluxdbLocal, also telling where the operator token came from. */
export async function launchInfluxdbLocal(input: InfluxdbLocalOptions, env: NodeJS.ProcessEnv = process.env): Promise<Launched> {
  const options = resolveOptions(input, env);
  let writer: SnapshotWriter | undefined;
  const store = new Store({ clock: options.clock, newId: () => newId(), newToken: () => newToken(), onChange: () => writer?.changed() });
  const snapshot = options.persistPath === undefined ? undefined : await readPersistFile(options.persistPath);
  if (snapshot !== undefined) store.restore(snapshot);
  const tokenFromEnv = input.token === undefined && options.token !== undefined;
  const { org, bucket, operator, tokenOrigin } = bootstrap(store, options, tokenFromEnv);

  const router = new Router(routes);
  let closing: Promise<void> | undefined;
  const { accessLog } = options;
  const http = createServer((req, res) => {
    if (closing !== undefined) res.setHeader('connection', 'close');
    if (accessLog !== undefined) logAccess(req, res, accessLog);
    void serve(req, res, router, store, options.maxBodyBytes);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  // Only a server that started writes the file: at once (with what bootstrap added), then on every change.
  if (options.persistPath !== undefined) {
    writer = new SnapshotWriter(options.persistPath, () => store.snapshot());
    writer.changed();
    try {
      await writer.flush();
    } catch (err) {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      throw new PersistFileError(`cannot write ${options.persistPath}: ${(err as Error).message}`, { cause: err });
    }
  }

  const bucketOf = (query: PointQuery): BucketRecord | undefined => {
    const inOrg = query.org === undefined ? org : store.orgByName(query.org);
    if (inOrg === undefined) return undefined;
    if (query.bucket === undefined) return inOrg.id === org.id ? bucket : undefined;
    const byName = store.bucketByName(inOrg.id, query.bucket);
    if (byName !== undefined || !looksLikeId(query.bucket)) return byName;
    const byId = store.buckets.get(query.bucket.toLowerCase());
    return byId?.orgID === inOrg.id ? byId : undefined;
  };
  const filterOf = (query: PointQuery) => ({
    ...(query.measurement !== undefined ? { measurement: query.measurement } : {}),
    ...(query.tags !== undefined ? { tags: query.tags } : {}),
  });

  const server: InfluxdbLocal = {
    url: `http://${urlHost(options.host)}:${port}`,
    org: org.name,
    orgID: org.id,
    bucket: bucket.name,
    bucketID: bucket.id,
    token: operator.token,
    points: (query = {}) => {
      const b = bucketOf(query);
      return b === undefined ? [] : store.points.query(b.id, filterOf(query));
    },
    countPoints: (query = {}) => {
      const b = bucketOf(query);
      return b === undefined ? 0 : store.points.count(b.id, filterOf(query));
    },
    stats: () => router.stats(),
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => http.closeAllConnections(), 2_000).unref();
          http.close(() => {
            clearTimeout(force);
            resolve();
          });
          http.closeIdleConnections();
        });
        await writer?.flush();
      })();
      return closing;
    },
  };
  return { server, tokenOrigin, restored: snapshot !== undefined };
}

async function serve(req: IncomingMessage, res: ServerResponse, router: Router, store: Store, maxBodyBytes: number): Promise<void> {
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  // InfluxDB names itself on every response.
  res.setHeader('x-influxdb-build', 'OSS');
  res.setHeader('x-influxdb-version', INFLUXDB_VERSION);
  try {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw ApiError.invalid('invalid request URL');
    }
    const match = router.match(method, url.pathname);
    if (match.kind === 'none') throw ApiError.notFound('path not found');
    if (match.kind === 'wrong method') {
      const allow = match.allowed.join(', ');
      const reply = errorReply(new ApiError('method not allowed', `allow: ${allow}`));
      sendReply(res, { ...reply, headers: { ...reply.headers, allow } }, head);
      return;
    }
    const reply = await match.route.handle({ req, params: match.params, query: url.searchParams, store, maxBodyBytes });
    sendReply(res, reply, head);
  } catch (err) {
    if (err instanceof ClientGoneError) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) {
      sendReply(res, errorReply(err), head);
      return;
    }
    process.stderr.write(`influxdb-local: internal error on ${method} request: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    sendReply(res, errorReply(new ApiError('internal error', 'internal error')), head);
  }
}

/** Calls `accessLog` once the answer to `req` has gone out: method, path (no query string), status, time. */
function logAccess(req: IncomingMessage, res: ServerResponse, accessLog: (entry: AccessLogEntry) => void): void {
  const arrived = performance.now();
  res.once('finish', () => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = (query === -1 ? url : url.slice(0, query)).slice(0, 256);
    try {
      accessLog({ method: req.method ?? 'GET', path, status: res.statusCode, ms: Math.round((performance.now() - arrived) * 100) / 100 });
    } catch {
      // the log is the caller's: its failure must not take the server down
    }
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
