import { InvalidRelayOptionsError } from './errors.js';

/**
 * A relay name: 1 to 63 lowercase letters, digits and `-`, starting and ending
 * with a letter or digit (a DNS label), so `forward_to_<name>` is a plain
 * LOCAL address and a name never needs escaping in a route's text form.
 */
export const RELAY_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The prefix of a forwarder's LOCAL address on the hub. */
export const FORWARDER_PREFIX = 'forward_to_';

/** The member attribute that limits which names an identity may take (see nameAllowed). */
export const RELAY_ATTRIBUTE = 'relay';

export function isRelayName(name: string): boolean {
  return RELAY_NAME_PATTERN.test(name);
}

/** Throws InvalidRelayOptionsError unless `name` is a relay name. */
export function checkRelayName(name: string): string {
  if (!isRelayName(name)) throw new InvalidRelayOptionsError(`a relay name is 1 to 63 of a-z, 0-9 and -, not starting or ending with -`);
  return name;
}

/** The LOCAL address of the forwarder for `name`: `forward_to_<name>`. */
export function forwarderName(name: string): string {
  return `${FORWARDER_PREFIX}${name}`;
}

/**
 * Whether a member with `attributes` may take `name`. The attribute `relay`
 * holds either one name (`pump-7`: that name only) or a prefix ending in `*`
 * (`pump-*`: any name starting with `pump-`; `*` alone: any name). A member
 * without the attribute may take any name when `requireAttribute` is false
 * (the default), none when it is true.
 */
export function nameAllowed(name: string, attributes: Readonly<Record<string, string>>, requireAttribute: boolean): boolean {
  const rule = attributes[RELAY_ATTRIBUTE];
  if (rule === undefined) return !requireAttribute;
  if (rule.endsWith('*')) return name.startsWith(rule.slice(0, -1));
  return name === rule;
}
