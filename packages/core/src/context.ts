import type { Address } from './address.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Node, Payload, RequestOptions } from './node.js';
import { toRoute, type Route } from './route.js';
import type { Worker, WorkerOptions } from './worker.js';

/** How a worker acts: its address, and the ways to send from it. */
export class Context {
  /** The return route of everything this worker sends: itself. */
  readonly returnRoute: Route;

  constructor(
    readonly node: Node,
    readonly address: Address,
    readonly logger: Logger,
  ) {
    this.returnRoute = Object.freeze([address]);
  }

  /** Sends a payload along a route, with this worker as the return route. */
  send(route: Route | Address | string, payload: Payload): void {
    this.node.send(toRoute(route), payload, { returnRoute: this.returnRoute });
  }

  /** Answers a message: onward = its return route, return = this worker. */
  reply(msg: Message, payload: Payload): void {
    this.node.send(msg.return, payload, { returnRoute: this.returnRoute });
  }

  /** Sends and waits for the reply (TimeoutError after `timeout` ms). */
  request(route: Route | Address | string, payload: Payload, options?: RequestOptions): Promise<Message> {
    return this.node.request(route, payload, options);
  }

  /** A hop: pop self from onward, push self onto return, pass it on. */
  forward(msg: Message): void {
    const onward = msg.onward.slice(1);
    const back = [this.address, ...msg.return];
    this.node.route({ onward, return: back, payload: msg.payload, local: msg.local });
  }

  /** Starts another worker on the same node. */
  startWorker(address: Address | string, worker: Worker | WorkerFunction, options?: WorkerOptions): Promise<Context> {
    return this.node.startWorker(address, worker, options);
  }
}

export type WorkerFunction = (ctx: Context, msg: Message) => Promise<void> | void;
