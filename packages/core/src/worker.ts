import type { Context } from './context.js';
import type { IncomingAccess } from './incoming-access.js';
import type { Message } from './message.js';

/**
 * An actor: it sees one message at a time from its mailbox, even while its
 * handler awaits. An error thrown by a handler is logged and counted, and the
 * worker goes on with the next message.
 */
export interface Worker {
  /** Runs once when the worker starts, before its first message. */
  initialize?(ctx: Context): Promise<void> | void;
  handleMessage(ctx: Context, msg: Message): Promise<void> | void;
  /** Runs once when the worker stops, after its mailbox is drained or the deadline passed. */
  shutdown?(ctx: Context): Promise<void> | void;
}

/** What happens when a message arrives at a full mailbox. */
export type MailboxPolicy =
  /** The arriving message is dropped and counted (`mailbox_full`); a local request for it fails at once. */
  | 'drop-newest'
  /** The oldest waiting message is dropped and counted, and the arriving one is queued. */
  | 'drop-oldest';

export interface WorkerOptions {
  /** How many messages may wait in the mailbox (default: the node's, 10,000). */
  mailboxCapacity?: number;
  mailboxPolicy?: MailboxPolicy;
  /**
   * Who may reach the worker (default `IncomingAccess.any`: local senders and
   * peers alike). Refused messages are dropped and counted `access_denied`.
   */
  incoming?: IncomingAccess;
}
