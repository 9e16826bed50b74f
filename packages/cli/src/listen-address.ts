import { InvalidAddressError } from '@tessera/core';

/** Parses `host:port` (IPv6 as `[::1]:4000`) for --listen. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65_535) throw new InvalidAddressError(`--listen takes host:port (e.g. 127.0.0.1:4000), got "${text}"`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** True for a loopback host: localhost (and *.localhost), 127.x.x.x, ::1. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
}
