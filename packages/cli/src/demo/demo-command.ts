import { Command, Option } from 'commander';
import { parseListen } from '../listen-address.js';
import { positiveNumber, positiveWholeNumber } from '../settings/values.js';
import { runDemo } from './run-demo.js';

/** `tessera demo`: what `npm start` runs. */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run influxdb-local, a secure hub and devices with short TTLs: devices enroll with one-use bootstrap tokens and lease through secure channels; leases issued, renewed, expired and revoked; a 401 and a 403 met and recovered from')
    .addOption(new Option('--duration <s>', 'end by itself after this many seconds, with a summary').env('TESSERA_DEMO_DURATION').argParser(positiveNumber))
    .addOption(new Option('--devices <n>', 'how many devices').env('TESSERA_DEMO_DEVICES').argParser(positiveWholeNumber).default(3))
    .addOption(new Option('--ttl <ms>', 'lease TTL the devices ask for').env('TESSERA_DEMO_TTL').argParser(positiveWholeNumber).default(6_000))
    .addOption(new Option('--max-ttl <ms>', "the hub's maximum TTL: leases reach it and are replaced").env('TESSERA_DEMO_MAX_TTL').argParser(positiveWholeNumber).default(15_000))
    .addOption(new Option('--interval <ms>', 'milliseconds between a device’s points').env('TESSERA_DEMO_INTERVAL').argParser(positiveWholeNumber).default(1_000))
    .addOption(new Option('--revoke-every <s>', "seconds between the operator's later acts (the first two, a revoke and a deactivation, come at once)").env('TESSERA_DEMO_REVOKE_EVERY').argParser(positiveNumber).default(10))
    .option('--timeline', 'print a timeline even on a terminal')
    .addOption(new Option('--console <host:port>', "serve the operator's web console here (another port when taken); its one-time login link is printed").env('TESSERA_DEMO_CONSOLE').default('127.0.0.1:8080'))
    .option('--no-console', "serve no web console")
    .action(async (opts: { duration?: number; devices: number; ttl: number; maxTtl: number; interval: number; revokeEvery: number; timeline?: boolean; console: string | false }) => {
      let webConsole: { host: string; port: number } | false = false;
      if (opts.console !== false) {
        try {
          webConsole = parseListen(opts.console);
        } catch (err) {
          process.stderr.write(`tessera demo: --console: ${(err as Error).message}\n`);
          process.exit(2);
        }
      }
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      const summary = await runDemo({
        ...(opts.duration === undefined ? {} : { duration: opts.duration }),
        devices: opts.devices,
        ttl: opts.ttl,
        maxTtl: Math.max(opts.maxTtl, opts.ttl),
        interval: opts.interval,
        revokeEvery: opts.revokeEvery,
        out: process.stdout,
        tty: process.stdout.isTTY === true && opts.timeline !== true,
        signal: abort.signal,
        console: webConsole,
      });
      process.exit(summary.pointsLost === 0 ? 0 : 1);
    });
}
