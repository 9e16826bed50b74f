import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createFileAtomic, describeError, LatestWriter, loadSnapshot, type Logger, SECRET_MODE, SnapshotCorruptError } from '@tessera/core';
import { z } from 'zod';
import { InvalidOptionsError } from '@tessera/token-lease';
import { type HeldLease, HeldLeaseSchema } from './held-lease.js';

export interface LeaseCacheOptions {
  /** The encrypted file. */
  path: string;
  /** 32 bytes as 64 hex digits or base64. */
  key?: string;
  /** A file (0600) holding the key as hex or base64, or 32 raw bytes; created with a random key if missing. */
  keyFile?: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** "TSLC" and format version 1; authenticated as additional data, so a file of another format fails the tag. */
const HEADER = Buffer.from([0x54, 0x53, 0x4c, 0x43, 0x01]);

const CacheContentSchema = z.object({ hub: z.string(), held: HeldLeaseSchema });

/**
 * The lease kept on disk between runs, encrypted with AES-256-GCM (a random
 * 12-byte IV per write, the tag checked on read). A file that was tampered
 * with, cut short, written with another key or for another hub is ignored:
 * the client then gets a new lease. Neither the key nor the token is logged.
 */
export class LeaseCache {
  private readonly writer: LatestWriter;

  private constructor(
    readonly path: string,
    private readonly key: Buffer,
    private readonly logger: Logger,
  ) {
    this.writer = new LatestWriter(path);
  }

  /** Reads (or creates) the key and returns a cache over `options.path`. */
  static async open(options: LeaseCacheOptions, logger: Logger): Promise<LeaseCache> {
    const key = options.key !== undefined ? parseKey(options.key, 'cache.key') : await loadKeyFile(options.keyFile!, logger);
    return new LeaseCache(options.path, key, logger);
  }

  /** The cached lease for `hub`, if the file is there, intact, ours, and the lease is still valid at `now`. */
  async load(hub: string, now: number): Promise<HeldLease | undefined> {
    const content = await loadSnapshot(this.path, {
      schema: CacheContentSchema,
      decode: (bytes) => this.decrypt(bytes),
      ifBad: 'ignore',
      onIgnored: (err) =>
        err instanceof SnapshotCorruptError
          ? this.logger.warn({ path: this.path }, 'lease cache failed authentication (tampered, truncated or another key); ignored')
          : this.logger.warn({ path: this.path, err: describeError(err) }, 'lease cache unreadable; ignored'),
    });
    if (content === undefined) return undefined;
    if (content.hub !== hub) {
      this.logger.info({ path: this.path }, 'lease cache is for another hub; ignored');
      return undefined;
    }
    if (content.held.validUntil <= now) {
      this.logger.info({ path: this.path, lease: content.held.lease.id }, 'cached lease has expired; ignored');
      return undefined;
    }
    return content.held;
  }

  /** Replaces the file with `held` for `hub`. */
  save(hub: string, held: HeldLease): Promise<void> {
    return this.writer.write(this.encrypt(JSON.stringify({ hub, held })));
  }

  /** Removes the file (after the lease was revoked). */
  clear(): Promise<void> {
    return this.writer.write(null);
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }

  private encrypt(text: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(HEADER);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([HEADER, iv, body, cipher.getAuthTag()]);
  }

  /** The plaintext of a file `encrypt` wrote; throws when the header, length or tag is wrong. */
  private decrypt(bytes: Buffer): string {
    if (bytes.length < HEADER.length + IV_BYTES + TAG_BYTES || !bytes.subarray(0, HEADER.length).equals(HEADER)) throw new Error('not a lease cache file');
    const iv = bytes.subarray(HEADER.length, HEADER.length + IV_BYTES);
    const body = bytes.subarray(HEADER.length + IV_BYTES, bytes.length - TAG_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(HEADER);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}

/** A 32-byte key from 64 hex digits or base64 (standard or URL-safe); `what` names the option in errors. */
export function parseKey(text: string, what: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new InvalidOptionsError(`${what} must be ${KEY_BYTES} bytes as 64 hex digits or base64`);
}

/** Reads the key file, or creates it with a random key if it does not exist. */
async function loadKeyFile(path: string, logger: Logger): Promise<Buffer> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      await createKeyFile(path);
      logger.info({ keyFile: path }, 'lease cache key file created');
      continue;
    }
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      logger.warn({ keyFile: path, mode: mode.toString(8) }, 'lease cache key file is readable by others; make it 0600');
    }
    if (bytes.length === KEY_BYTES && !/^[\x21-\x7e]+$/.test(bytes.toString('latin1'))) return bytes;
    return parseKey(bytes.toString('utf8'), `cache.keyFile (${path})`);
  }
  throw new InvalidOptionsError(`cache.keyFile (${path}) could not be created`);
}

/** Creates the key file with a new random key; if another process got there first, its key wins. */
async function createKeyFile(path: string): Promise<void> {
  try {
    await createFileAtomic(path, `${randomBytes(KEY_BYTES).toString('hex')}\n`, SECRET_MODE);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
  }
}
