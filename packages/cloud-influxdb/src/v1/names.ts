import { DEPLOYMENT_NAME, type Ownership } from '../deployment.js';

// A leased 1.x user's name is its lease id: `<marker>_<deployment>_<16 hex>_<expiry>`, the
// expiry the lease was created with, as compact ISO 8601 UTC with milliseconds
// (`tessera-lease_prod_0a1b2c3d4e5f6071_20260101T120000.000Z`). Names cannot change, so a
// renewal records its new expiry in the metadata database (see service.ts). Neither the
// marker nor the deployment may hold `_`, so the parts split unambiguously; the longest
// name (64 + 40 + 16 + 20 + 3 = 143 characters) is well within what InfluxDB 1.x takes.
// The legacy format `<marker>_<16 hex>_<expiry>` has no deployment.

const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;
const ID = /^[0-9a-f]{16}$/;

/** The user name for a new lease. */
export function userName(marker: string, deployment: string, id: string, expires: Date): string {
  return `${marker}_${deployment}_${id}_${compactIso(expires)}`;
}

/** What a user name says, when Tessera made it (any deployment); `deployment` is undefined for the legacy format. */
export function parseUserName(marker: string, name: string): { deployment: string | undefined; expires: string } | undefined {
  const prefix = `${marker}_`;
  if (!name.startsWith(prefix)) return undefined;
  const parts = name.slice(prefix.length).split('_');
  if (parts.length !== 2 && parts.length !== 3) return undefined;
  const [deployment, id, stamp] = parts.length === 3 ? parts : [undefined, ...parts];
  if (deployment !== undefined && !DEPLOYMENT_NAME.test(deployment)) return undefined;
  if (!ID.test(id!)) return undefined;
  const expires = fromCompactIso(stamp!);
  return expires === undefined ? undefined : { deployment, expires };
}

/** The expiry a user name records, when it is this deployment's (or an adopted legacy one). */
export function parseOwnedUserName(ours: Ownership, name: string): { expires: string } | undefined {
  const parsed = parseUserName(ours.marker, name);
  if (parsed === undefined) return undefined;
  const owned = parsed.deployment === undefined ? ours.adoptLegacy : parsed.deployment === ours.deployment;
  return owned ? { expires: parsed.expires } : undefined;
}

function compactIso(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

function fromCompactIso(text: string): string | undefined {
  const m = COMPACT.exec(text);
  if (m === null) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
