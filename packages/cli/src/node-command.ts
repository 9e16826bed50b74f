import { consoleLogger, echoWorker, Node } from '@tessera/core';
import { Ed25519Identity, loadOrCreateIdentity, startSecureChannelListener, trustEveryone, trustIdentifiers } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { Command } from 'commander';
import { parseListen } from './listen-address.js';
import { onShutdownSignal } from './shutdown.js';

interface NodeCommandOptions {
  listen: string;
  identity?: string;
  trust: string[];
}

/** `tessera node`: a node with a WebSocket listener, a secure-channel listener and the echo worker. */
export function nodeCommand(): Command {
  return new Command('node')
    .description('start a node with a WebSocket listener, a secure-channel listener and an echo worker')
    .option('--listen <host:port>', 'where to listen (env TESSERA_LISTEN)', process.env['TESSERA_LISTEN'] ?? '127.0.0.1:4000')
    .option('--identity <file>', 'the node’s identity file, created if missing (default: a new identity for this run only)')
    .option('--trust <identifier>', 'accept secure channels from this identity only (repeatable; default: everyone, for development)', collect, [])
    .action(async (opts: NodeCommandOptions) => {
      const { host, port } = parseListen(opts.listen);
      const logger = consoleLogger('info');
      const node = new Node({ name: 'tessera', logger });
      // no hops for peers: anyone who reaches the node could make it dial any address (or relay a channel's plaintext)
      const transport = new WebSocketTransport(node, { forwarding: false });
      await node.startWorker('echo', echoWorker);
      const identity = opts.identity === undefined ? Ed25519Identity.generate() : await loadOrCreateIdentity(opts.identity);
      const trust = opts.trust.length > 0 ? trustIdentifiers(opts.trust) : trustEveryone(logger);
      const channels = await startSecureChannelListener(node, { identity, trust });
      const listener = await transport.listen({ host, port });
      process.stdout.write(
        [
          `tessera node listening on ${listener.url} (subprotocol tessera.v1)`,
          `identity: ${identity.identifier}${opts.identity === undefined ? ' (for this run only: --identity FILE keeps one)' : ''}`,
          `workers: echo, ${channels.address} (secure channels, docs/protocol.md §5)`,
          `talk to it from another node:  node.request(route('3#${listener.host}:${listener.port}', 'echo'), 'hello')`,
          `or through a secure channel:   createSecureChannel(node, route('3#${listener.host}:${listener.port}', '${channels.address}'), { identity, trust })`,
          `or with any ws + msgpack client: send the binary frame [1, [[0,"echo"]], [[0,"me"]], <bytes>]`,
          `Ctrl-C stops it.`,
          '',
        ].join('\n'),
      );
      onShutdownSignal(() => node.stop());
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
