import { InvalidOptionsError } from '../errors.js';
import { type LeaseGrant, leaseGrant, type Privilege, privilegesOf } from '../grant.js';
import type { Caller } from '../lease-service.js';
import { type CallerQuotas, callerQuotasOf, type OwnerQuotas } from '../owner-quotas.js';
import type { TtlPolicy } from '../ttl-policy.js';
import { POLICY_LIMITS, type LeasePolicies, type LeasePolicy } from './policy-schema.js';
import { resolveTemplate } from './placeholders.js';

/** What a caller's leases get: privileges, TTL bounds, quotas. */
export interface LeaseDecision {
  grant: LeaseGrant;
  ttl: TtlPolicy;
  quotas: CallerQuotas;
}

/** The decision for a caller, or undefined when no policy applies to it (it may not create or renew). */
export type LeaseDecider = (caller: Caller) => LeaseDecision | undefined;

/** The hub's own settings: what a caller gets without policies, and the bounds every rule lies within. */
export interface HubLeaseDefaults {
  grant: LeaseGrant;
  ttl: TtlPolicy;
  quotas?: OwnerQuotas;
}

/** A rule with its TTL bounds and quotas settled at start; only its privileges wait for the caller. */
interface CompiledRule {
  match: Readonly<Record<string, string>>;
  privileges: LeasePolicy['privileges'];
  extra: LeasePolicy['extra'];
  ttl: TtlPolicy;
  quotas: CallerQuotas;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Turns lease policies and the hub's defaults into a decision per caller:
 * the first rule whose `match` the caller's attributes satisfy, and whose
 * placeholders all resolve, decides; a caller no rule matches gets undefined,
 * except an admin, who keeps the hub's defaults. Without policies every caller
 * gets the hub's defaults. Throws InvalidOptionsError (naming the field) for a
 * rule whose TTL bounds leave the hub's.
 */
export function leaseDecisions(policies: LeasePolicies | undefined, hub: HubLeaseDefaults): LeaseDecider {
  const hubQuotas = callerQuotasOf(hub.quotas);
  const hubDecision: LeaseDecision = { grant: hub.grant, ttl: hub.ttl, quotas: hubQuotas };
  if (policies === undefined) return () => hubDecision;
  const rules = policies.map((rule, i) => compile(rule, i, hub.ttl, hubQuotas));
  return (caller) => {
    const attributes = caller.attributes ?? NO_ATTRIBUTES;
    for (const rule of rules) {
      if (!matches(attributes, rule.match)) continue;
      const grant = grantFor(rule, attributes);
      if (grant !== undefined) return { grant, ttl: rule.ttl, quotas: rule.quotas };
    }
    return caller.admin ? hubDecision : undefined;
  };
}

function compile(rule: LeasePolicy, index: number, hubTtl: TtlPolicy, hubQuotas: CallerQuotas): CompiledRule {
  return {
    match: rule.match,
    privileges: rule.privileges,
    extra: rule.extra,
    ttl: ruleTtl(rule, `policies.${index}.ttl`, hubTtl),
    quotas: { ...hubQuotas, ...rule.quotas },
  };
}

/** A rule's TTL bounds: its own within the hub's; an unset default is the hub's, brought within the rule's bounds. */
function ruleTtl(rule: LeasePolicy, at: string, hub: TtlPolicy): TtlPolicy {
  const minTtl = rule.ttl?.min ?? hub.minTtl;
  const maxTtl = rule.ttl?.max ?? hub.maxTtl;
  const check = (field: string, value: number | undefined) => {
    if (value === undefined) return;
    if (value < hub.minTtl) throw new InvalidOptionsError(`invalid lease policies: ${at}.${field}: ${value} ms is below the hub's minimum TTL ${hub.minTtl} ms`);
    if (value > hub.maxTtl) throw new InvalidOptionsError(`invalid lease policies: ${at}.${field}: ${value} ms is above the hub's maximum TTL ${hub.maxTtl} ms`);
  };
  check('min', rule.ttl?.min);
  check('max', rule.ttl?.max);
  check('default', rule.ttl?.default);
  if (minTtl > maxTtl) throw new InvalidOptionsError(`invalid lease policies: ${at}: min ${minTtl} ms is above max ${maxTtl} ms`);
  const defaultTtl = rule.ttl?.default ?? Math.min(Math.max(hub.defaultTtl, minTtl), maxTtl);
  if (defaultTtl < minTtl || defaultTtl > maxTtl) {
    throw new InvalidOptionsError(`invalid lease policies: ${at}.default: ${defaultTtl} ms is not within ${minTtl}..${maxTtl} ms`);
  }
  return { defaultTtl, minTtl, maxTtl, renewable: hub.renewable };
}

/** Every attribute of `match` is the caller's, with the same value. */
function matches(attributes: Readonly<Record<string, string>>, match: Readonly<Record<string, string>>): boolean {
  return Object.entries(match).every(([name, value]) => Object.hasOwn(attributes, name) && attributes[name] === value);
}

/** The rule's grant for these attributes, or undefined when a placeholder does not resolve. */
function grantFor(rule: CompiledRule, attributes: Readonly<Record<string, string>>): LeaseGrant | undefined {
  const defaults = resolve(rule.privileges, attributes);
  const extra = resolve(rule.extra, attributes);
  if (defaults === undefined || extra === undefined) return undefined;
  return leaseGrant(defaults, extra);
}

function resolve(entries: LeasePolicy['privileges'], attributes: Readonly<Record<string, string>>): Privilege[] | undefined {
  const resolved: LeasePolicy['privileges'] = [];
  for (const entry of entries) {
    const resource = resolveTemplate(entry.resource, attributes, POLICY_LIMITS.resourceLength);
    if (resource === undefined) return undefined;
    resolved.push({ resource, actions: entry.actions });
  }
  return privilegesOf(resolved);
}
