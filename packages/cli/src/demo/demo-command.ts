import { Command } from 'commander';
import { runDemo } from './run-demo.js';

const positive = (name: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
  return n;
};

/** `tessera demo`: what `npm start` runs. */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run influxdb-local, a hub and devices with short TTLs, and show leases issued, renewed, expired and revoked')
    .option('--duration <s>', 'end by itself after this many seconds, with a summary', positive('--duration'))
    .option('--devices <n>', 'how many devices', positive('--devices'), 3)
    .option('--ttl <ms>', 'lease TTL the devices ask for', positive('--ttl'), 6_000)
    .option('--max-ttl <ms>', "the hub's maximum TTL: leases reach it and are replaced", positive('--max-ttl'), 15_000)
    .option('--interval <ms>', 'milliseconds between a device’s points', positive('--interval'), 1_000)
    .option('--revoke-every <s>', 'seconds between revocations from outside', positive('--revoke-every'), 10)
    .option('--timeline', 'print a timeline even on a terminal')
    .action(async (opts: { duration?: number; devices: number; ttl: number; maxTtl: number; interval: number; revokeEvery: number; timeline?: boolean }) => {
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      const summary = await runDemo({
        ...(opts.duration === undefined ? {} : { duration: opts.duration }),
        devices: Math.floor(opts.devices),
        ttl: opts.ttl,
        maxTtl: Math.max(opts.maxTtl, opts.ttl),
        interval: opts.interval,
        revokeEvery: opts.revokeEvery,
        out: process.stdout,
        tty: process.stdout.isTTY === true && opts.timeline !== true,
        signal: abort.signal,
      });
      process.exit(summary.pointsLost === 0 ? 0 : 1);
    });
}
