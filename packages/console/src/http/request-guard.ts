import type { IncomingMessage } from 'node:http';

/**
 * The Host values the console answers to: its own address, and the loopback
 * names of its port. Anything else is refused, so a page on another site that
 * points a DNS name at 127.0.0.1 (DNS rebinding) gets nothing.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  hosts.add(host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);
  return hosts;
}

/** True when the request names one of `hosts`. */
export function hostAllowed(req: IncomingMessage, hosts: Set<string>): boolean {
  const host = req.headers.host;
  return host !== undefined && hosts.has(host.toLowerCase());
}

/**
 * True when a state-changing request comes from the console's own page: its
 * Origin is `http://` + the Host it was sent to (one of ours). A request
 * without an Origin, or from another origin, is refused.
 */
export function sameOrigin(req: IncomingMessage, hosts: Set<string>): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host?.toLowerCase();
  return origin !== undefined && host !== undefined && hosts.has(host) && origin.toLowerCase() === `http://${host}`;
}

/** The value of the session cookie `name` (sessionCookie), if the request carries one. */
export function sessionOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
