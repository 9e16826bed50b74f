import type { Worker } from './worker.js';

/** Replies to every message with the payload it got (Ockam's echoer). */
export const echoWorker: Worker = {
  handleMessage(ctx, msg) {
    ctx.reply(msg, msg.payload);
  },
};
