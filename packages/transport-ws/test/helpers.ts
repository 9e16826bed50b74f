import FakeTimers from '@sinonjs/fake-timers';
import { type Clock, Node, silentLogger } from '@tessera/core';
import { type ConnectionStatus, WebSocketTransport, type WsTransportOptions } from '@tessera/transport-ws';

export interface TestNode {
  node: Node;
  transport: WebSocketTransport;
}

export function makeNode(name: string, options: WsTransportOptions = {}): TestNode {
  const node = new Node({ name, logger: silentLogger });
  const transport = new WebSocketTransport(node, options);
  return { node, transport };
}

/** Resolves with the first status the transport reports that matches. */
export function nextStatus(transport: WebSocketTransport, type: ConnectionStatus['type']): Promise<ConnectionStatus> {
  return new Promise((resolve) => {
    const on = (s: ConnectionStatus) => {
      if (s.type !== type) return;
      transport.off('status', on);
      resolve(s);
    };
    transport.on('status', on);
  });
}

/** A fake clock (for a transport's or a node's timers), its tick, and its time. */
export function fakeClock(): { clock: Clock; tick: (ms: number) => void; now: () => number } {
  const fake = FakeTimers.createClock();
  return {
    clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout },
    tick: (ms) => void fake.tick(ms),
    now: () => fake.now,
  };
}
