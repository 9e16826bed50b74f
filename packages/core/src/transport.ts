import type { Message } from './message.js';

/**
 * A transport carries messages to addresses of one type (WS = 3). The router
 * hands it every message whose onward head has that type; the transport pops
 * that head and sends the rest. Nothing in the core knows how.
 */
export interface Transport {
  readonly type: number;
  /**
   * Whether it sends on what a peer sent this node (a hop through this node,
   * A → B → C); undefined when the transport does not say. A node reached
   * through a relay needs this off, or anyone who reaches the hub could make
   * it dial any address.
   */
  readonly forwardsPeers?: boolean;
  /** Sends a message whose onward head is an address of this transport's type. Never throws. */
  send(msg: Message): void;
  /**
   * Messages waiting for the socket of this transport's connection at LOCAL
   * `connection` (it is down, or its peer reads slower than it is sent to); 0
   * while it keeps up, and for a name that is none of its connections.
   */
  queuedFor?(connection: string): number;
  /** Stops taking new connections; existing ones keep working until `stop`. */
  stopAccepting?(): Promise<void>;
  /** Closes every connection and listener. */
  stop(): Promise<void>;
}
