import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoWorker, fromUtf8, route } from '@tessera/core';
import { makeNode } from './helpers.js';

/** A self-signed certificate for 127.0.0.1, made with the openssl command. */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('wss:// listener', () => {
  it('serves wss:// with a certificate and key; a client trusting it gets replies, one that does not is refused', async () => {
    const tls = selfSigned();
    const hub = makeNode('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen({ tls });
    expect(listener.url).to.match(/^wss:\/\/127\.0\.0\.1:\d+$/);

    const trusting = makeNode('trusting', { clientTls: { ca: tls.cert, rejectUnauthorized: true } });
    const reply = await trusting.node.request(route(`3#${listener.url}`, 'echo'), 'over tls');
    expect(fromUtf8(reply.payload)).to.equal('over tls');

    const wary = makeNode('wary', { reconnect: { maxAttempts: 1, initialDelay: 10 } });
    const err = await wary.node.request(route(`3#${listener.url}`, 'echo'), 'x', { timeout: 5_000 }).catch((e: unknown) => e);
    expect((err as Error).name).to.equal('ConnectionError');

    await Promise.all([trusting.node.stop(), wary.node.stop(), hub.node.stop()]);
  });

  it('refuses an upgrade that the authenticate hook turns down, with HTTP 401', async () => {
    const hub = makeNode('hub');
    const listener = await hub.transport.listen({ authenticate: (req) => req.headers['x-tessera-test'] === 'let-me-in' });
    const { default: WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(listener.url, 'tessera.v1');
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).to.equal(401);
    const allowed = new WebSocket(listener.url, 'tessera.v1', { headers: { 'x-tessera-test': 'let-me-in' } });
    await new Promise((resolve, reject) => {
      allowed.once('open', resolve);
      allowed.once('error', reject);
    });
    allowed.close();
    await hub.node.stop();
  });
});
