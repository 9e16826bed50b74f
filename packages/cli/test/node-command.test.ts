import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Node, fromUtf8, route, silentLogger } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import { freePort } from '@tessera/testing';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('tessera node (what npm start runs until the demo exists)', function () {
  this.timeout(60_000);
  it('listens where TESSERA_LISTEN says, echoes, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'node'], { env: { ...process.env, TESSERA_LISTEN: `127.0.0.1:${port}` } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect(out).to.include(`ws://127.0.0.1:${port}`);
    const client = new Node({ logger: silentLogger });
    new WebSocketTransport(client);
    const reply = await client.request(route(`3#127.0.0.1:${port}`, 'echo'), 'hello');
    expect(fromUtf8(reply.payload)).to.equal('hello');
    await client.stop();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).to.equal(0);
  });

  it('refuses a malformed --listen with a clear message and exit 2', async () => {
    const child = spawn(process.execPath, [bin, 'node', '--listen', 'nonsense']);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).to.equal(2);
    expect(err).to.include('--listen takes host:port');
  });
});
