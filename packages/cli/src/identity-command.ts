import { createIdentityFile, Ed25519Identity, loadIdentity } from '@tessera/secure-channel';
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
      await createNewIdentityFile(opts.out, created);
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

/** Writes `identity` to `path` unless something is there already, in one exclusive step (never overwrites). */
async function createNewIdentityFile(path: string, identity: Ed25519Identity): Promise<void> {
  try {
    await createIdentityFile(path, identity);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') throw new Error(`${path} exists already; an identity is never overwritten`, { cause: err });
    throw err;
  }
}
