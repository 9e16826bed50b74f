import { local, randomId64, type Address, type Node, type Sink } from '@tessera/core';

type SinkOptions = NonNullable<Parameters<Node['registerSink']>[2]>;

/**
 * Registers `sink` at a fresh LOCAL address: `prefix` and 128 random bits
 * (docs/protocol.md §5 asks for at least 64), drawn again if taken, so an
 * address is unguessable and never reused. Returns it and its unregister.
 */
export function freshAddress(node: Node, prefix: string, sink: Sink, options: SinkOptions = {}): { address: Address; unregister: () => void } {
  for (;;) {
    const name = `${prefix}${randomId64()}${randomId64()}`;
    if (node.router.hasLocal(name)) continue;
    const unregister = node.registerSink(name, sink, options);
    return { address: local(name), unregister };
  }
}
