import type { ServerResponse } from 'node:http';

/** Heartbeat comments every this many ms keep proxies and the browser from closing a quiet stream. */
const HEARTBEAT = 15_000;

/**
 * Bytes written to a page and not yet taken by its connection, at most: a page
 * that stops reading (a frozen tab, a stalled network) is cut off past it,
 * rather than held in the console's memory; its EventSource reconnects and
 * starts again from the whole view.
 */
export const MAX_STREAM_BACKLOG = 1024 * 1024;

/**
 * The pages listening (server-sent events, `text/event-stream`): at most
 * `max` at once; each gets every message, as `event: NAME` and one `data:`
 * line of JSON, while it keeps up (MAX_STREAM_BACKLOG).
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly max = 16) {
    this.heartbeat = setInterval(() => {
      for (const res of this.open) this.write(res, ': heartbeat\n\n');
    }, HEARTBEAT);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /** Takes `res` as a stream, sends it `first`; false when `max` are open already. */
  add(res: ServerResponse, headers: Record<string, string>, first: { event: string; data: unknown }): boolean {
    if (this.open.size >= this.max) return false;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    this.write(res, frame(first.event, first.data));
    return true;
  }

  send(event: string, data: unknown): void {
    const text = frame(event, data);
    for (const res of this.open) this.write(res, text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.open) res.end();
    this.open.clear();
  }

  /** Writes `text` to a page that has taken what it was sent before but MAX_STREAM_BACKLOG; cuts off one that has not. */
  private write(res: ServerResponse, text: string): void {
    if (res.writableLength <= MAX_STREAM_BACKLOG) {
      res.write(text);
      return;
    }
    this.open.delete(res);
    res.destroy();
  }
}

function frame(event: string, data: unknown): string {
  // JSON.stringify never writes a raw newline, so one data line holds it all
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
