// Lease create+revoke per second through a secure hub (the default: the request through a
// secure channel, membership looked up in the hub's member store on each request) vs the
// same hub started with --insecure (plaintext, no lookup). Both hubs are `startHub` in this
// process with memory storage and their own influxdb-local in-process, the device node is in
// this process too, and the caller is an admin on both (an --insecure hub's one caller is
// the admin `anonymous`), so the same quotas (none) apply. 64 requests in flight; the two
// take turns, REPEATS times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, local, Node, route, type Route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, trustIdentifiers } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { HubConfigSchema } from '../packages/cli/src/hub/hub-config.js';
import { type Hub, startHub } from '../packages/cli/src/hub/start-hub.js';
import { median, REPEATS, report } from './report.js';

const IN_FLIGHT = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

async function rate(op: () => Promise<void>): Promise<number> {
  const until = performance.now() + SECONDS * 1000;
  let ops = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        await op();
        ops += 1;
      }
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

function cycle(node: Node, to: Route): () => Promise<void> {
  const ask = async (body: object) => {
    const answer = JSON.parse(fromUtf8((await node.request(to, JSON.stringify(body), { timeout: 30_000 })).payload)) as { result: string; lease?: { id: string }; message?: string };
    if (answer.result !== 'success') throw new Error(`lease request failed: ${answer.message ?? '?'}`);
    return answer;
  };
  return async () => {
    const created = await ask({ action: 'create', options: {} });
    await ask({ action: 'revoke', token_id: created.lease!.id });
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-secure-lease-'));
const admin = Ed25519Identity.generate();
// one identity sends every request: no per-identity request budget (identityRequestRate 0), as before it existed
const base = { listen: '127.0.0.1:0', storage: 'memory', logLevel: 'silent', maxLeasesPerOwner: 0, createsPerMinute: 0, identityRequestRate: 0 } as const;
const secureHub: Hub = await startHub(HubConfigSchema.parse({ ...base, identity: join(dir, 'hub.json'), admin: [admin.identifier] }), silentLogger);
const plainHub: Hub = await startHub(HubConfigSchema.parse({ ...base, insecure: true }), silentLogger);
const device = new Node({ logger: silentLogger });
new WebSocketTransport(device);
const channel = await createSecureChannel(device, route(`3#127.0.0.1:${secureHub.listener.port}`, 'secure_channel'), {
  identity: admin,
  trust: trustIdentifiers([secureHub.secure!.identifier]),
});
const secure = cycle(device, [channel.address, local('token_lease')]);
const plain = cycle(device, route(`3#127.0.0.1:${plainHub.listener.port}`, 'token_lease'));
await rate(secure); // warm up both
await rate(plain);

const secured: number[] = [];
const plaintext: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  secured.push(await rate(secure));
  plaintext.push(await rate(plain));
}
report({
  name: 'lease create+revoke/s through a secure hub (channel, membership per request), 64 in flight',
  value: median(secured),
  unit: 'create+revoke/s',
  baseline: 'the same hub started with --insecure (plaintext, no membership lookup), same process, same memory storage and in-process influxdb-local, same 64 in flight, the caller an admin on both, no per-identity request budget on the secure hub (identityRequestRate 0)',
  baselineValue: median(plaintext),
  repeats: REPEATS,
});
channel.close();
await device.stop();
await secureHub.stop();
await plainHub.stop();
rmSync(dir, { recursive: true, force: true });
