import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Ed25519Identity, loadOrCreateIdentity } from '@tessera/secure-channel';

/**
 * Where a hub keeps its identity unless `--identity` says: `hub-identity.json`
 * in `$TESSERA_STATE_DIR`, else `$XDG_STATE_HOME/tessera`, else
 * `~/.local/state/tessera`.
 */
export function defaultHubIdentityPath(env: NodeJS.ProcessEnv): string {
  const dir = env['TESSERA_STATE_DIR'] || join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'tessera');
  return join(dir, 'hub-identity.json');
}

/** The hub's identity, created on first start (0600, its directory 0700 when made here). */
export async function hubIdentity(path: string): Promise<Ed25519Identity> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return loadOrCreateIdentity(path);
}
