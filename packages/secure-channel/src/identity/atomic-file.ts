import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Owner read and write only: what a file holding a private key gets. */
export const SECRET_MODE = 0o600;

/**
 * Replaces `path` with `data` so that a reader sees the old content or the
 * new, never a part: a temporary file with an unpredictable name is created
 * exclusively beside it (so no one can plant it or a link in advance), given
 * `mode` whatever the umask, flushed, then renamed over `path`.
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
 * name removed), so two processes creating the same file cannot both win.
 */
export async function createFileAtomic(path: string, data: string | Uint8Array, mode = SECRET_MODE): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return temp;
}
