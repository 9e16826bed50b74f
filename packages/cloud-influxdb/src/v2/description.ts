// A managed token's description: `<marker> v1 expires=<ISO 8601 UTC>`, e.g.
// `tessera-lease v1 expires=2026-01-01T12:00:00.000Z`. `v1` is this format's version.

/** The description a managed token carries. */
export function describeLease(marker: string, expires: Date): string {
  return `${marker} v1 expires=${expires.toISOString()}`;
}

/** Whether a description is ours, and the expiry it records. */
export function parseDescription(marker: string, description: string | undefined): { managed: boolean; expires?: string } {
  if (description === undefined || !description.startsWith(`${marker} `)) return { managed: false };
  const match = /(?:^|\s)expires=(\S+)/.exec(description);
  const date = match === null ? undefined : new Date(match[1]!);
  if (date === undefined || Number.isNaN(date.getTime())) return { managed: true };
  return { managed: true, expires: date.toISOString() };
}
