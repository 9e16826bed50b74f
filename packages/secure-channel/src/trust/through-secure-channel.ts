import { IncomingAccess } from '@tessera/core';
import { hasAttributes } from './trust-policy.js';

/** What throughSecureChannel asks of a message besides having come through a channel. */
export interface ThroughSecureChannelOptions {
  /** Only these peers. */
  identifiers?: Iterable<string>;
  /** Only peers whose valid credentials carry these attributes. */
  attributes?: Readonly<Record<string, string>>;
}

/**
 * An incoming access policy for a worker that takes only messages delivered
 * through a secure channel (msg.local.identity, which only a channel end sets),
 * optionally only from some peers or with some attributes.
 */
export function throughSecureChannel(options: ThroughSecureChannelOptions = {}): IncomingAccess {
  const identifiers = options.identifiers === undefined ? undefined : new Set(options.identifiers);
  const required = options.attributes;
  return IncomingAccess.where((msg) => {
    const identity = msg.local.identity;
    if (identity === undefined) return false;
    if (identifiers !== undefined && !identifiers.has(identity)) return false;
    return hasAttributes(msg.local.attributes, required);
  });
}
