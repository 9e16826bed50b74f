import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SettingsError } from './settings-error.js';

/** The most a secret file may hold: a token or a password, not a data file. */
const MAX_SECRET_FILE = 4096;

/**
 * The secret in `path` (a token, a password), for a `--…-file` option: the
 * file's text without surrounding white space (a trailing newline). Throws
 * SettingsError naming `what` and the path, never the content, when the file
 * cannot be read, is not a regular file, holds more than 4 KiB or nothing.
 */
export function readSecretFile(path: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SettingsError(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_SECRET_FILE) throw new SettingsError(`${what}: ${path} is not a file of at most ${MAX_SECRET_FILE} bytes`);
    const buffer = Buffer.alloc(stats.size);
    const read = readSync(fd, buffer, 0, stats.size, 0);
    const secret = buffer.subarray(0, read).toString('utf8').trim();
    if (secret === '') throw new SettingsError(`${what}: ${path} is empty`);
    return secret;
  } finally {
    closeSync(fd);
  }
}
