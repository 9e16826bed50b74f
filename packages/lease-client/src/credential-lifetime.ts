import { decodeSegment, splitCompact } from '@tessera/secure-channel';
import { z } from 'zod';
import { LeaseProtocolError } from './errors.js';

const TimesSchema = z.object({ iat: z.number().nonnegative(), exp: z.number().nonnegative() }).refine((t) => t.exp > t.iat, 'exp must come after iat');

/**
 * How long a credential (docs/protocol.md §6) lives, in ms: `exp - iat`, both
 * on the authority's clock, so the client's own clock being off does not
 * matter. Not a verification: the credential is the hub's to check.
 */
export function credentialLifetime(jws: string): number {
  const parts = splitCompact(jws);
  const claims = parts === undefined ? undefined : decodeSegment(parts[1]);
  const times = TimesSchema.safeParse(claims);
  // never quote the credential: it is a bearer of our attributes
  if (!times.success) throw new LeaseProtocolError('the authority sent a credential that is not a JWS with iat and exp');
  return (times.data.exp - times.data.iat) * 1000;
}
