import { Node, silentLogger } from '@tessera/core';
import { LeaseClient } from '@tessera/lease-client';
import { isIdentifier, loadIdentity } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { Command, Option } from 'commander';
import { EXIT, exitWith } from './hub-request.js';
import { positiveWholeNumber } from './settings/values.js';
import { onShutdownSignal } from './shutdown.js';

interface WatchOptions {
  hub: string;
  address: string;
  sink: string;
  ttl?: number;
  cache?: string;
  cacheKeyFile?: string;
  keep?: boolean;
  identity?: string;
  hubIdentity?: string;
  insecure?: boolean;
}

/**
 * `tessera lease watch --sink FILE`: holds a lease, renews and replaces it,
 * and keeps FILE holding the current token (for Telegraf, curl, ...).
 */
export function leaseWatchCommand(): Command {
  return new Command('watch')
    .description('hold a lease and keep a file holding its current token (renewed and replaced as needed)')
    .requiredOption('--sink <file>', 'file that always holds the current token and a newline (mode 0600)')
    .addOption(new Option('--hub <url>', 'the hub: ws://host:port, host:port or a route').env('TESSERA_HUB').default('ws://127.0.0.1:4000'))
    .option('--address <name>', 'LOCAL address of the lease worker on the hub', 'token_lease')
    .addOption(new Option('--identity <file>', 'our identity file (a member of the hub): requests go through a secure channel').env('TESSERA_IDENTITY'))
    .addOption(new Option('--hub-identity <id>', 'trust only the hub with this identifier (I…)').env('TESSERA_HUB_IDENTITY'))
    .option('--insecure', 'plaintext, without an identity (an insecure development hub)')
    .addOption(new Option('--ttl <ms>', 'requested TTL in milliseconds').argParser(positiveWholeNumber))
    .option('--cache <file>', 'keep the lease in this AES-256-GCM encrypted file across restarts')
    .option('--cache-key-file <file>', 'the key of that file (created, 0600, if missing; default <cache>.key)')
    .option('--keep', 'do not revoke the lease on exit')
    .action(async (opts: WatchOptions) => {
      const { ttl } = opts;
      const command = 'tessera lease watch';
      if (opts.insecure === true && (opts.identity !== undefined || opts.hubIdentity !== undefined)) exitWith(command, EXIT.usage, '--insecure is plaintext: it takes no --identity or --hub-identity');
      if (opts.insecure !== true && opts.identity === undefined) exitWith(command, EXIT.usage, '--identity FILE (or TESSERA_IDENTITY) is required: requests go through a secure channel (--insecure for a development hub)');
      if (opts.hubIdentity !== undefined && !isIdentifier(opts.hubIdentity)) exitWith(command, EXIT.usage, '--hub-identity must be an identifier: I and 64 lowercase hex digits');
      const identity = opts.identity === undefined ? undefined : await loadIdentity(opts.identity);
      const node = new Node({ name: 'tessera-lease-watch', logger: silentLogger });
      new WebSocketTransport(node);
      const client = new LeaseClient({
        node,
        hub: routeTo(opts.hub, opts.address),
        ...(identity === undefined ? {} : { identity }),
        ...(opts.hubIdentity === undefined ? {} : { hubIdentifier: opts.hubIdentity }),
        sink: opts.sink,
        ...(ttl === undefined ? {} : { ttl }),
        ...(opts.cache === undefined ? {} : { cache: { path: opts.cache, keyFile: opts.cacheKeyFile ?? `${opts.cache}.key` } }),
      });
      const say = (text: string) => process.stdout.write(`${new Date().toISOString()} ${text}\n`);
      client.on('acquired', ({ lease, reason }) => say(`acquired lease ${lease.id} (${reason}), expires ${lease.expires}; token in ${opts.sink}`));
      client.on('renewed', ({ lease }) => say(`renewed lease ${lease.id}, expires ${lease.expires}`));
      client.on('revoked', ({ leaseId }) => say(`revoked lease ${leaseId}`));
      client.on('failed', ({ error, operation }) => say(`${operation} failed: ${error.message}`));
      await client.start();
      onShutdownSignal(async () => {
        await client.stop({ revoke: opts.keep !== true });
        await node.stop();
      });
    });
}
