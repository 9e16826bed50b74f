import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Owner read and write only: what every file holding a secret gets. */
export const SECRET_MODE = 0o600;

/**
 * Replaces `path` with `data` so that a reader sees the old content or the new,
 * never a part: write a temporary file beside it (same file system), flush it,
 * then rename it over. The file gets `mode` whatever the umask.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = SECRET_MODE): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/**
 * As writeFileAtomic, but never replaces an existing file: fails with EEXIST
 * instead (the complete file is hard-linked into place, then the temporary
 * name removed), so of two processes creating the same file one wins whole.
 */
export async function createFileAtomic(path: string, data: string | Uint8Array, mode = SECRET_MODE): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** A flushed file beside `path` with an unpredictable name, created exclusively (nothing can be planted there) with `mode`. */
async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return temp;
}

/**
 * Writes to one file in order, keeping only the newest content while a write
 * is under way: a burst of changes ends with the last one on disk, never an
 * older one renamed over it. `null` removes the file.
 */
export class LatestWriter {
  private latest: string | Uint8Array | null | undefined;
  private running: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly mode = SECRET_MODE,
  ) {}

  /** Resolves once `data`, or something newer, is on disk. */
  write(data: string | Uint8Array | null): Promise<void> {
    this.latest = data;
    this.running ??= this.drain();
    return this.running;
  }

  /** Resolves when nothing is being written. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      while (this.latest !== undefined) {
        const data = this.latest;
        this.latest = undefined;
        if (data === null) await unlink(this.path).catch(ignoreMissing);
        else await writeFileAtomic(this.path, data, this.mode);
      }
    } finally {
      // cleared in the same turn as the last check, so a later write starts a new drain
      this.running = undefined;
    }
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
}
