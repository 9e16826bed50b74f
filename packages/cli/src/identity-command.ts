import { stat } from 'node:fs/promises';
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
      if (await exists(opts.out)) throw new Error(`${opts.out} exists already; an identity is never overwritten`);
      const created = Ed25519Identity.generate();
      await saveIdentity(opts.out, created);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
