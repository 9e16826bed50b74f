import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on a free loopback port to `127.0.0.1:port`: a test can cut its connections and read what passed. */
export interface TcpProxy {
  readonly port: number;
  /** Every chunk that passed, both ways, in order. */
  readonly bytes: readonly Buffer[];
  /** Whether `needle` appears in what passed (a chunk, or across two). */
  saw(needle: string): boolean;
  /** Destroys the connections it carries now; new ones are still accepted. */
  cut(): void;
  /**
   * Stops passing on what the server sends on the connections it carries now
   * (the clients read nothing more; it backs up at the server, as behind a
   * slow link), until `release`. What the clients send still passes.
   */
  hold(): void;
  /** Passes on what the server sent meanwhile, and from now on. */
  release(): void;
  /** Cuts and stops listening. */
  close(): void;
}

/** Starts a TcpProxy in front of `port` (what a test uses to drop a peer's connection and watch the wire). */
export async function startTcpProxy(port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  /** Each connection: the client's socket, and ours to the server. */
  const pairs = new Set<{ inbound: Socket; outbound: Socket; held: boolean }>();
  const bytes: Buffer[] = [];
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('data', (chunk: Buffer) => bytes.push(chunk));
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
    const pair = { inbound, outbound, held: false };
    pairs.add(pair);
    inbound.on('close', () => {
      pairs.delete(pair);
      outbound.destroy();
    });
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    bytes,
    saw: (needle) => Buffer.concat(bytes).includes(Buffer.from(needle)),
    cut,
    hold() {
      for (const pair of pairs) {
        if (pair.held) continue;
        pair.held = true;
        pair.outbound.unpipe(pair.inbound);
        pair.outbound.pause();
      }
    },
    release() {
      for (const pair of pairs) {
        if (!pair.held) continue;
        pair.held = false;
        pair.outbound.pipe(pair.inbound);
        pair.outbound.resume();
      }
    },
    close() {
      cut();
      server.close();
    },
  };
}
