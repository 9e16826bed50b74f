import { consoleLogger, echoWorker, Node } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import { Command } from 'commander';
import { parseListen } from './listen-address.js';
import { onShutdownSignal } from './shutdown.js';

/** `tessera node`: a node with a WebSocket listener and the echo worker. */
export function nodeCommand(): Command {
  return new Command('node')
    .description('start a node with a WebSocket listener and an echo worker')
    .option('--listen <host:port>', 'where to listen (env TESSERA_LISTEN)', process.env['TESSERA_LISTEN'] ?? '127.0.0.1:4000')
    .action(async (opts: { listen: string }) => {
      const { host, port } = parseListen(opts.listen);
      const node = new Node({ name: 'tessera', logger: consoleLogger('info') });
      const transport = new WebSocketTransport(node);
      await node.startWorker('echo', echoWorker);
      const listener = await transport.listen({ host, port });
      process.stdout.write(
        [
          `tessera node listening on ${listener.url} (subprotocol tessera.v1)`,
          `workers: echo`,
          `talk to it from another node:  node.request(route('3#${listener.host}:${listener.port}', 'echo'), 'hello')`,
          `or with any ws + msgpack client: send the binary frame [1, [[0,"echo"]], [[0,"me"]], <bytes>]`,
          `Ctrl-C stops it.`,
          '',
        ].join('\n'),
      );
      onShutdownSignal(() => node.stop());
    });
}
