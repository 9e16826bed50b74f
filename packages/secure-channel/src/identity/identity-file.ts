import { open } from 'node:fs/promises';
import { z } from 'zod';
import { InsecureIdentityFileError, InvalidIdentityFileError } from '../errors.js';
import { createFileAtomic, writeFileAtomic } from '@tessera/core';
import { Ed25519Identity } from './identity.js';

const Base64Url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url');

/** The identity file: JSON, mode 0600. `identifier` and `public_key` are there for people and are checked on load. */
const IdentityFileSchema = z.strictObject({
  version: z.literal(1),
  identifier: z.string(),
  public_key: Base64Url32,
  private_key: Base64Url32,
});

/** The largest identity file read; a real one has about 200 bytes. */
const MAX_FILE_SIZE = 4096;

/** Writes `identity` to `path` atomically, readable by its owner only. */
export async function saveIdentity(path: string, identity: Ed25519Identity): Promise<void> {
  await writeFileAtomic(path, identityFileText(identity));
}

/**
 * Writes `identity` to `path` only if nothing is there (a file, a directory, a
 * symbolic link, dangling or not), in one exclusive step, readable by its owner
 * only; an EEXIST error otherwise. A file created at `path` meanwhile is never replaced.
 */
export async function createIdentityFile(path: string, identity: Ed25519Identity): Promise<void> {
  await createFileAtomic(path, identityFileText(identity));
}

function identityFileText(identity: Ed25519Identity): string {
  const file: z.infer<typeof IdentityFileSchema> = {
    version: 1,
    identifier: identity.identifier,
    public_key: Buffer.from(identity.publicKey).toString('base64url'),
    private_key: Buffer.from(identity.exportPrivateKey()).toString('base64url'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Reads the identity saved at `path`. Refuses a file that group or others
 * may read (InsecureIdentityFileError) and one that is not a valid identity
 * (InvalidIdentityFileError); neither error shows the file's content.
 */
export async function loadIdentity(path: string): Promise<Ed25519Identity> {
  const handle = await open(path, 'r');
  let text: string;
  try {
    // the mode is checked on the open file, so a swap between check and read cannot pass
    const stats = await handle.stat();
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
      throw new InsecureIdentityFileError(`identity file ${path} has mode ${mode}: it holds a private key, so group and others must have no access (chmod 600)`);
    }
    if (!stats.isFile() || stats.size > MAX_FILE_SIZE) throw new InvalidIdentityFileError(`${path} is not an identity file`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // the parser's message may quote the file, private key included
    throw new InvalidIdentityFileError(`identity file ${path} is not JSON`);
  }
  const parsed = IdentityFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidIdentityFileError(`identity file ${path} is invalid: ${issue?.path.join('.') ?? ''} ${issue?.code ?? ''}`.trimEnd());
  }
  const identity = Ed25519Identity.fromPrivateKey(Buffer.from(parsed.data.private_key, 'base64url'));
  if (Buffer.from(identity.publicKey).toString('base64url') !== parsed.data.public_key || identity.identifier !== parsed.data.identifier) {
    throw new InvalidIdentityFileError(`identity file ${path} is invalid: its public key or identifier does not match its private key`);
  }
  return identity;
}

/** The identity saved at `path`, or a new one saved there if there is none (concurrent callers all get the one saved). */
export async function loadOrCreateIdentity(path: string): Promise<Ed25519Identity> {
  try {
    return await loadIdentity(path);
  } catch (err) {
    if (!hasCode(err, 'ENOENT')) throw err;
  }
  const identity = Ed25519Identity.generate();
  try {
    await createIdentityFile(path, identity);
  } catch (err) {
    if (hasCode(err, 'EEXIST')) return loadIdentity(path); // another process created it first
    throw err;
  }
  return identity;
}

function hasCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}
