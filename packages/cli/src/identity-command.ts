import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createFileAtomic } from '@tessera/core';
import { Ed25519Identity, loadIdentity, saveIdentity } from '@tessera/secure-channel';
import { Command } from 'commander';

/** The identity file used when none is named. */
export const DEFAULT_IDENTITY_FILE = process.env['TESSERA_IDENTITY'] ?? 'tessera-identity.json';

/** `tessera identity create|show`: an Ed25519 identity in a file (mode 0600) and its identifier. */
export function identityCommand(): Command {
  const identity = new Command('identity').description('create or show an identity (an Ed25519 key pair for secure channels)');
  identity
    .command('create')
    .description('create a new identity file (never overwrites one) and print its identifier')
    .option('--out <file>', 'where to write it (env TESSERA_IDENTITY)', DEFAULT_IDENTITY_FILE)
    .action(async (opts: { out: string }) => {
      const created = Ed25519Identity.generate();
      await createIdentityFile(opts.out, created);
      process.stdout.write(`${created.identifier}\n`);
      process.stderr.write(`identity written to ${opts.out} (mode 0600: it holds the private key)\n`);
    });
  identity
    .command('show')
    .description('print the identifier of an identity file')
    .option('--identity <file>', 'the identity file (env TESSERA_IDENTITY)', DEFAULT_IDENTITY_FILE)
    .action(async (opts: { identity: string }) => {
      process.stdout.write(`${(await loadIdentity(opts.identity)).identifier}\n`);
    });
  return identity;
}

/**
 * Writes `identity` to `path` unless something is there already (a file, a
 * directory, a symbolic link, dangling or not), in one step: a file created
 * at `path` meanwhile is never replaced. The identity file's text is
 * secure-channel's (saveIdentity, to a staging file beside `path`), put in
 * place by core's createFileAtomic.
 */
export async function createIdentityFile(path: string, identity: Ed25519Identity): Promise<void> {
  const staging = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.new`);
  try {
    await saveIdentity(staging, identity);
    await createFileAtomic(path, await readFile(staging));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') throw new Error(`${path} exists already; an identity is never overwritten`, { cause: err });
    throw err;
  } finally {
    await rm(staging, { force: true });
  }
}
