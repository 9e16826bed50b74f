// The operator's console, issue 13's figure: a device's lease shows on the page
// within 2 s of its creation. A secure hub in this process (memory storage,
// in-process influxdb-local), `startConsole` on it as an admin, Debian's
// chromium (headless, playwright-core) logged in to the console, and an
// enrolled device that creates leases one at a time (each revoked, and gone
// from the page, before the next). Measured from the hub's create (its lease
// service's `created`, just before the answer goes out) to:
//   ours: the lease's row in the page, at the first animation frame after it
//         entered the DOM (a MutationObserver in the page notes it);
//   baseline: the lease's `lease_issued` reaching a bare hub_events subscriber
//         (an admin's node and secure channel in this process, no console, no
//         browser), subscribed to the same hub in the same run: the same
//         leases, so the ratio is what the console and the browser add.
// Times are ms since the epoch from each process's performance clock; the
// browser's offset from this process's is measured first (the closest of 20
// round trips). Percentiles over every measured lease (after a warm-up); one run.
import { fromUtf8, local } from '@tessera/core';
import { HUB_EVENTS_WORKER, HubEventSchema } from '@tessera/console';
import { launchChromium } from '../packages/console/test/browser.js';
import { startConsoleFixture } from '../packages/console/test/console-fixture.js';
import { percentile, report } from './report.js';

const LEASES = Number(process.env.BENCH_LEASES ?? 200);
const WARMUP = 20;
const TARGET_P99_MS = 2_000;

const clock = () => performance.timeOrigin + performance.now();

/** Notes, in the page, when each lease's row is first painted: `window.__shown[id]`, ms since the epoch. */
const NOTE_ROWS = `(() => {
  const shown = (window.__shown = {});
  new MutationObserver((records) => {
    for (const record of records)
      for (const node of record.addedNodes) {
        if (!(node instanceof Element)) continue;
        const rows = node.matches('tr[data-lease-id]') ? [node] : node.querySelectorAll('tr[data-lease-id]');
        for (const row of rows) {
          const id = row.getAttribute('data-lease-id');
          if (id in shown) continue;
          shown[id] = 0;
          requestAnimationFrame(() => (shown[id] = performance.timeOrigin + performance.now()));
        }
      }
  }).observe(document, { childList: true, subtree: true });
})();`;

/** Resolvers waiting for a key, and when each key arrived. */
class Arrivals {
  readonly at = new Map<string, number>();
  private readonly waiting = new Map<string, () => void>();
  note(key: string, at: number): void {
    this.at.set(key, at);
    this.waiting.get(key)?.();
    this.waiting.delete(key);
  }
  wait(key: string): Promise<void> {
    if (this.at.has(key)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(key, resolve));
  }
}

// no per-owner create rate and no per-identity request budget: the device creates LEASES + WARMUP leases in a minute or so
const fx = await startConsoleFixture({ createsPerMinute: 0, identityRequestRate: 0, logLevel: 'silent' });
const browser = await launchChromium();
try {
  const created = new Map<string, number>();
  fx.hub.service.on('created', (e) => created.set(e.id, clock()));

  // the bare subscriber: a member with role=admin (an admin, §6), its own node and channel, an inbox the events arrive at
  const watcher = await fx.device({ role: 'admin' });
  const issued = new Arrivals();
  const revoked = new Arrivals();
  let seq = 0;
  let subscribed!: (subscription: string) => void;
  const subscription = new Promise<string>((resolve) => (subscribed = resolve));
  await watcher.node.startWorker('inbox', (_ctx, msg) => {
    const at = clock();
    const value = JSON.parse(fromUtf8(msg.payload)) as { result?: string; subscription?: string };
    if (value.result !== undefined) return subscribed(value.subscription!);
    const event = HubEventSchema.parse(value);
    seq = event.seq;
    if (event.event === 'lease_issued') issued.note(event.lease.id, at);
    if (event.event === 'lease_revoked') revoked.note(event.id, at);
  });
  watcher.node.send([watcher.channel.address, local(HUB_EVENTS_WORKER)], JSON.stringify({ action: 'subscribe', request_id: 'bench' }), { returnRoute: [local('inbox')] });
  const watching = await subscription;

  const page = await browser.context.newPage();
  await page.addInitScript(NOTE_ROWS);
  await page.goto(fx.console.loginUrl);
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  const offset = await browserClockOffset(page);
  process.stderr.write(`# the browser's clock minus this process's: ${offset.toFixed(2)} ms\n`);

  const device = await fx.device();
  const measured: string[] = [];
  for (let n = 0; n < WARMUP + LEASES; n++) {
    const answer = await device.ask('token_lease', { action: 'create', options: {} });
    if (answer.result !== 'success') throw new Error(`create failed: ${answer.code}`);
    const id = answer.lease!.id;
    await issued.wait(id);
    await page.waitForFunction((leaseId) => ((globalThis as unknown as { __shown: Record<string, number> }).__shown[leaseId] ?? 0) > 0, id, { polling: 10, timeout: 60_000 });
    if (n >= WARMUP) measured.push(id);
    if ((await device.ask('token_lease', { action: 'revoke', token_id: id })).result !== 'success') throw new Error('revoke failed');
    await revoked.wait(id);
    await page.locator(`tr[data-lease-id="${id}"]`).waitFor({ state: 'detached', timeout: 60_000 });
    // acknowledged and kept alive, as a console does
    await watcher.ask(HUB_EVENTS_WORKER, { action: 'renew', subscription: watching, seq });
  }
  const shown = await page.evaluate(() => (globalThis as unknown as { __shown: Record<string, number> }).__shown);
  const onPage = measured.map((id) => shown[id]! - offset - created.get(id)!);
  const bare = measured.map((id) => issued.at.get(id)! - created.get(id)!);

  const what = `${LEASES} leases one at a time, secure hub with memory storage, console and headless chromium on this machine`;
  const baseline = `the same leases' lease_issued reaching a bare hub_events subscriber (an admin's node and secure channel in this process; no console, no browser), same hub, same run`;
  for (const p of [50, 99] as const) {
    const value = percentile(onPage, p);
    const base = percentile(bare, p);
    report({
      name: `console: a lease's row painted in the page after the hub created it, p${p} (${what})`,
      value,
      unit: 'ms',
      baseline,
      baselineValue: base,
      ratio: base / value,
      repeats: 1,
      ...(p === 99 ? { target: { of: 'value' as const, atMost: TARGET_P99_MS } } : {}),
    });
  }
} finally {
  await browser.close();
  await fx.stop();
}

/** The browser's performance clock minus this process's (ms), from the round trip of 20 that took least. */
async function browserClockOffset(page: import('playwright-core').Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 20; i++) {
    const before = clock();
    const there = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = clock();
    if (after - before < best.rtt) best = { rtt: after - before, offset: there - (before + after) / 2 };
  }
  return best.offset;
}
