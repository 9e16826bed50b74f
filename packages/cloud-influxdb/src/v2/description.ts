import type { Ownership } from '../deployment.js';

// A managed token's description: `<marker> v2 deployment=<name> expires=<ISO 8601 UTC>`,
// e.g. `tessera-lease v2 deployment=prod expires=2026-01-01T12:00:00.000Z`. `v2` is this
// format's version. The legacy format `<marker> v1 expires=<…>` has no deployment: such a
// token is ours only when the service adopts legacy tokens.

/** The description a managed token carries. */
export function describeLease(marker: string, deployment: string, expires: Date): string {
  return `${marker} v2 deployment=${deployment} expires=${expires.toISOString()}`;
}

/** Whether a description is this deployment's (or an adopted legacy one), and the expiry it records. */
export function parseDescription(ours: Ownership, description: string | undefined): { managed: boolean; expires?: string } {
  if (description === undefined || !description.startsWith(`${ours.marker} `)) return { managed: false };
  const deployment = /(?:^|\s)deployment=(\S+)/.exec(description);
  const managed = deployment === null ? ours.adoptLegacy : deployment[1] === ours.deployment;
  if (!managed) return { managed: false };
  const match = /(?:^|\s)expires=(\S+)/.exec(description);
  const date = match === null ? undefined : new Date(match[1]!);
  if (date === undefined || Number.isNaN(date.getTime())) return { managed: true };
  return { managed: true, expires: date.toISOString() };
}
