import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on a free loopback port to `127.0.0.1:port`: a test can cut its connections, hold what clients send, stall what the server answers, and read what passed. */
export interface TcpProxy {
  readonly port: number;
  /** Every chunk that passed, both ways, in order (a held chunk once it is released). */
  readonly bytes: readonly Buffer[];
  /** Whether `needle` appears in what passed (a chunk, or across two). */
  saw(needle: string): boolean;
  /** Destroys the connections it carries now; new ones are still accepted. */
  cut(): void;
  /**
   * Stops forwarding what clients send (answers still flow back) until release():
   * everything from now on, or with `from`, on each connection from the first chunk
   * that contains it (`'DELETE '` lets other requests pass). A connection that closes
   * while it holds something drops it: the server never sees it.
   */
  hold(from?: string): void;
  /** What each open connection holds now, one Buffer per connection that holds anything. */
  held(): Buffer[];
  /** Stops holding and forwards what the open connections hold, in order. */
  release(): void;
  /**
   * Stops passing on what the server sends on the connections it carries now (the
   * clients read nothing more; it backs up at the server, as behind a slow link),
   * until `resumeAnswers`. What the clients send still passes.
   */
  stallAnswers(): void;
  /** Passes on what the server sent meanwhile, and from now on. */
  resumeAnswers(): void;
  /** Cuts and stops listening. */
  close(): void;
}

/** One proxied connection: what its client sent that waits for release(). */
interface Carried {
  inbound: Socket;
  outbound: Socket;
  pending: Buffer[];
}

/** Starts a TcpProxy in front of `port` (what a test uses to drop a peer's connection, stall its requests and watch the wire). */
export async function startTcpProxy(port: number): Promise<TcpProxy> {
  const carried = new Set<Carried>();
  const bytes: Buffer[] = [];
  let holding: { from: string | undefined } | undefined;
  const forward = (c: Carried, chunk: Buffer): void => {
    bytes.push(chunk);
    c.outbound.write(chunk);
  };
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    const c: Carried = { inbound, outbound, pending: [] };
    carried.add(c);
    for (const s of [inbound, outbound]) s.on('error', () => s.destroy());
    inbound.on('data', (chunk: Buffer) => {
      const held = c.pending.length > 0 || (holding !== undefined && (holding.from === undefined || chunk.includes(holding.from)));
      if (held) c.pending.push(chunk);
      else forward(c, chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      bytes.push(chunk);
      inbound.write(chunk);
    });
    // a client that ends while holding drops what it held (the server must never see a request its client gave up on)
    inbound.on('end', () => (c.pending.length > 0 ? outbound.destroy() : outbound.end()));
    outbound.on('end', () => inbound.end());
    inbound.on('close', () => {
      carried.delete(c);
      outbound.destroy();
    });
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    for (const c of carried) {
      c.inbound.destroy();
      c.outbound.destroy();
    }
  };
  return {
    port: (server.address() as { port: number }).port,
    bytes,
    saw: (needle) => Buffer.concat(bytes).includes(Buffer.from(needle)),
    cut,
    hold(from) {
      holding = { from };
    },
    held: () => [...carried].filter((c) => c.pending.length > 0).map((c) => Buffer.concat(c.pending)),
    release() {
      holding = undefined;
      for (const c of carried) {
        for (const chunk of c.pending.splice(0)) forward(c, chunk);
      }
    },
    stallAnswers() {
      for (const c of carried) c.outbound.pause();
    },
    resumeAnswers() {
      for (const c of carried) c.outbound.resume();
    },
    close() {
      cut();
      server.close();
    },
  };
}
