import { defineError, loadSnapshot, writeFileAtomic } from '@tessera/core';
import { snapshotSchema, type Snapshot } from './snapshot.js';

/** Thrown at start when the persist file exists but is not a snapshot this server wrote. */
export const PersistFileError = defineError('PersistFileError', 'PERSIST_FILE');
export type PersistFileError = InstanceType<typeof PersistFileError>;

/** Reads the persist file; undefined when there is none yet, PersistFileError when it is not a snapshot this server wrote. */
export async function readPersistFile(path: string): Promise<Snapshot | undefined> {
  try {
    return await loadSnapshot(path, { schema: snapshotSchema });
  } catch (err) {
    throw new PersistFileError((err as Error).message, { cause: err });
  }
}

/**
 * Writes snapshots to a file: a change schedules a write after `delayMs` (changes
 * in between share it), one write at a time, each through `writeFileAtomic` (a
 * temporary file with an unpredictable name, created exclusively with mode 0600,
 * renamed over the old one): the snapshot holds every token, so no other user may
 * read it or plant a file where it is written, and a crash never leaves half a file.
 */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private lastError: unknown;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => Snapshot,
    private readonly delayMs = 100,
  ) {}

  /** Notes a change; the file is written soon. */
  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write; rejects if that write fails. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write();
        this.lastError = undefined;
      } catch (err) {
        this.dirty = true;
        this.lastError = err;
      }
    });
    return this.writing.then(() => {
      if (this.lastError !== undefined) throw this.lastError;
    });
  }

  private async write(): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(this.snapshot()));
  }
}
