import type { Clock } from '@tessera/core';
import { UntrustedPeerError } from '../errors.js';
import type { Peer, TrustCheck } from '../handshake/peer.js';
import type { Admission, TrustPolicy } from '../trust/trust-policy.js';

/** A handshake's TrustCheck that asks a TrustPolicy and keeps what it granted. */
export class AdmissionCheck {
  private granted: Admission | undefined;

  constructor(
    private readonly policy: TrustPolicy,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  readonly check: TrustCheck = async (peer: Peer) => {
    this.granted = await this.policy.admit(peer, this.clock);
    return this.granted !== undefined;
  };

  /** What the policy granted; throws if the check has not admitted anyone. */
  get admission(): Admission {
    if (this.granted === undefined) throw new UntrustedPeerError('the peer was not admitted');
    return this.granted;
  }
}
