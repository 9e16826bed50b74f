import { LatestWriter } from '@tessera/core';

/**
 * A file that always holds the current token and a newline (mode 0600), for
 * programs that are not Node (Telegraf's `token = "@file"`, `curl -H @file`).
 * Each change replaces the file atomically, so a reader never sees half a token.
 */
export class TokenSink {
  private readonly writer: LatestWriter;
  private written: string | undefined;

  constructor(readonly path: string) {
    this.writer = new LatestWriter(path);
  }

  /** Writes `token` unless it is what the file holds already. */
  async write(token: string): Promise<void> {
    if (token === this.written) return;
    this.written = token;
    try {
      await this.writer.write(`${token}\n`);
    } catch (err) {
      this.written = undefined;
      throw err;
    }
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }
}
