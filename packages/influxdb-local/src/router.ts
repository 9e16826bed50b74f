import type { IncomingMessage } from 'node:http';
import type { Reply } from './http.js';
import type { Store } from './store.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';

/** What a route handler gets for one request. */
export interface RequestContext {
  req: IncomingMessage;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  store: Store;
  maxBodyBytes: number;
}

/** One endpoint: a method, a path template with `{name}` segments, and its handler. */
export interface Route {
  method: Method;
  path: string;
  handle(ctx: RequestContext): Promise<Reply> | Reply;
}

interface Compiled {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong method'; allowed: Method[] }
  | { kind: 'none' };

/** Matches requests to routes and counts the requests each route gets. */
export class Router {
  private readonly compiled: Compiled[];
  private readonly counts = new Map<string, number>();

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split('/')
        .map((segment) => {
          const param = /^\{(\w+)\}$/.exec(segment);
          if (param === null) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          names.push(param[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, pathname: string): Match {
    const allowed: Method[] = [];
    for (const c of this.compiled) {
      const m = c.pattern.exec(pathname);
      if (m === null) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = decodeSegment(m[i + 1]!);
      });
      const key = routeKey(c.route);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      return { kind: 'found', route: c.route, params };
    }
    return allowed.length > 0 ? { kind: 'wrong method', allowed } : { kind: 'none' };
  }

  /** Requests per route so far, keyed `METHOD /path/{param}`; routes not yet called are 0. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.compiled) out[routeKey(c.route)] = this.counts.get(routeKey(c.route)) ?? 0;
    return out;
  }
}

function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
