// A leased 1.x user's name is its lease id: `<marker>_<16 hex>_<expiry>`, the expiry
// the lease was created with, as compact ISO 8601 UTC with milliseconds
// (`tessera-lease_0a1b2c3d4e5f6071_20260101T120000.000Z`). Names cannot change, so a
// renewal records its new expiry in the metadata database (see service.ts).

const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

/** The user name for a new lease. */
export function userName(marker: string, id: string, expires: Date): string {
  return `${marker}_${id}_${compactIso(expires)}`;
}

/** What a user name says, when it is one of ours. */
export function parseUserName(marker: string, name: string): { expires: string } | undefined {
  const prefix = `${marker}_`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^([0-9a-f]{16})_(\d{8}T\d{6}\.\d{3}Z)$/.exec(name.slice(prefix.length));
  if (match === null) return undefined;
  const expires = fromCompactIso(match[2]!);
  return expires === undefined ? undefined : { expires };
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
