/** The first characters of an identifier or id, enough to tell them apart on a page. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 9)}…` : id;
}

/** `1h 02m`, `3m 05s`, `42s`, from milliseconds (negative: 0s). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** How long ago `iso` was, in words (`5s ago`), or `never`. */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  return `${duration(now - Date.parse(iso))} ago`;
}

/** `role=device site=north` */
export function attributesText(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** A local time of day, `14:05:09`. */
export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}
