import { echoWorker, formatRoute, InvalidAddressError, local, Node, type Route } from '@tessera/core';
import { createRelay, isRelayName } from '@tessera/relay';
import { isIdentifier, loadOrCreateIdentity, startSecureChannelListener, trustEveryone, trustIdentifiers } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { Command, Option } from 'commander';
import { EXIT, exitWith } from './hub-request.js';
import { cliLogger } from './logger.js';
import { readSecretFile } from './settings/secret-file.js';
import { positiveWholeNumber } from './settings/values.js';
import { onShutdownSignal } from './shutdown.js';

const COMMAND = 'tessera relay create';

interface RelayCreateOptions {
  hub: string;
  identity: string;
  hubIdentity?: string;
  enrollToken?: string;
  enrollTokenFile?: string;
  trust: string[];
  pingInterval: number;
  timeout: number;
  logLevel: string;
}

/** The hub's transport hop from --hub: `ws://host:port`, `host:port` or `3#host:port` (a relay is kept at a hub reached directly, never a route). */
export function hubHops(target: string): Route {
  if (target.includes('=>')) throw new InvalidAddressError('--hub is the hub, reached directly: ws://host:port or host:port, not a route');
  return routeTo(target, 'relay').slice(0, -1);
}

/**
 * `tessera relay create NAME`: a node that can dial the hub but cannot be
 * dialled keeps a relay at the hub under NAME (re-registering after
 * reconnects and hub restarts) and serves `echo` and a secure-channel listener
 * through it, until Ctrl-C.
 */
export function relayCommand(): Command {
  const relay = new Command('relay').description('relays: reach a node behind NAT through the hub (forward_to_NAME)');
  relay.addCommand(
    new Command('create')
      .description('keep a relay NAME at the hub for this node, serving echo and secure channels through it, until Ctrl-C')
      .argument('<name>', 'the relay name: 1 to 63 of a-z, 0-9 and -')
      .addOption(new Option('--hub <url>', 'the hub, reached directly: ws://host:port or host:port').env('TESSERA_HUB').default('ws://127.0.0.1:4000'))
      .addOption(new Option('--identity <file>', 'our identity file (created if missing); the hub binds the name to it').env('TESSERA_IDENTITY').makeOptionMandatory())
      .addOption(new Option('--hub-identity <id>', 'trust only the hub with this identifier (I…)').env('TESSERA_HUB_IDENTITY'))
      .addOption(
        new Option('--enroll-token <token>', 'a bootstrap token, redeemed once if the hub does not know this identity; prefer TESSERA_ENROLL_TOKEN or --enroll-token-file (a flag shows in the process list)').env(
          'TESSERA_ENROLL_TOKEN',
        ),
      )
      .addOption(new Option('--enroll-token-file <file>', 'read the bootstrap token from this file (trailing newline ignored), out of the process list').env('TESSERA_ENROLL_TOKEN_FILE'))
      .addOption(new Option('--trust <identifier>', 'accept secure channels through the relay from this identity only (repeatable; default: everyone, for development)').argParser(collect).default([]))
      .addOption(new Option('--ping-interval <ms>', 'how often to check the relay end to end').argParser(positiveWholeNumber).default(10_000))
      .addOption(new Option('--timeout <ms>', 'how long to wait for the hub').argParser(positiveWholeNumber).default(5_000))
      .addOption(new Option('--log-level <level>', 'debug, info, warn or error').default('info'))
      .action(async (name: string, opts: RelayCreateOptions) => {
        if (!isRelayName(name)) exitWith(COMMAND, EXIT.usage, 'a relay name is 1 to 63 of a-z, 0-9 and -, not starting or ending with -');
        if (opts.hubIdentity !== undefined && !isIdentifier(opts.hubIdentity)) exitWith(COMMAND, EXIT.usage, '--hub-identity must be I followed by 64 lowercase hex digits');
        let hops: Route;
        try {
          hops = hubHops(opts.hub);
        } catch (err) {
          exitWith(COMMAND, EXIT.usage, err instanceof Error ? err.message : String(err));
        }
        const enrollToken = enrollTokenOf(opts);
        const logger = cliLogger(opts.logLevel, 'tessera-relay');
        const node = new Node({ name: 'relay-device', logger });
        // no hops for peers: whoever reaches the hub reaches this node through the relay, and must not make it dial out
        new WebSocketTransport(node, { forwarding: false });
        await node.startWorker('echo', echoWorker);
        const identity = await loadOrCreateIdentity(opts.identity);
        const trust = opts.trust.length > 0 ? trustIdentifiers(opts.trust) : trustEveryone(logger);
        const channels = await startSecureChannelListener(node, { identity, trust });
        let kept;
        try {
          kept = await createRelay(node, hops, {
            identity,
            name,
            ...(opts.hubIdentity === undefined ? {} : { hubIdentifier: opts.hubIdentity }),
            ...(enrollToken === undefined ? {} : { enrollToken }),
            pingInterval: opts.pingInterval,
            requestTimeout: opts.timeout,
          });
        } catch (err) {
          exitWith(COMMAND, EXIT.usage, err instanceof Error ? err.message : String(err));
        }
        const relay = kept;
        relay.on('registered', () => {
          process.stdout.write(`relay ${name} registered: reach this node at ${formatRoute([...relay.route, local('echo')])}\n`);
        });
        relay.on('retrying', ({ err, delay }) => {
          process.stderr.write(`${COMMAND}: relay ${name} not registered (${err.message}); trying again in ${delay} ms\n`);
        });
        process.stdout.write(`identity: ${identity.identifier}\nworkers: echo, ${channels.address} (secure channels through the relay)\nCtrl-C stops it.\n`);
        onShutdownSignal(async () => {
          await relay.close();
          await node.stop();
        });
      }),
  );
  return relay;
}

/** The bootstrap token from --enroll-token-file, TESSERA_ENROLL_TOKEN or --enroll-token (one of them), or none; exits 2 on a file it cannot use. */
function enrollTokenOf(opts: RelayCreateOptions): string | undefined {
  const given = opts.enrollToken === undefined || opts.enrollToken === '' ? undefined : opts.enrollToken;
  if (opts.enrollTokenFile === undefined || opts.enrollTokenFile === '') return given;
  if (given !== undefined) exitWith(COMMAND, EXIT.usage, 'give the bootstrap token one way: --enroll-token-file, TESSERA_ENROLL_TOKEN or --enroll-token');
  try {
    return readSecretFile(opts.enrollTokenFile, '--enroll-token-file');
  } catch (err) {
    exitWith(COMMAND, EXIT.usage, err instanceof Error ? err.message : String(err));
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
