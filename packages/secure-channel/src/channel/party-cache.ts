import { createLocalParty, withCredentials, type LocalParty } from '../handshake/local-party.js';
import type { Signer } from '../identity/signer.js';

const parties = new WeakMap<Signer, Promise<LocalParty>>();

/**
 * Our LocalParty for `signer` presenting `credentials`. The Noise static key
 * and its proof are made once per signer, so a handshake costs no signature
 * (the signer may be a remote KMS).
 */
export async function partyFor(signer: Signer, credentials: readonly string[] = []): Promise<LocalParty> {
  let party = parties.get(signer);
  if (party === undefined) {
    party = createLocalParty({ signer });
    parties.set(signer, party);
    party.catch(() => parties.delete(signer));
  }
  return withCredentials(await party, credentials);
}
