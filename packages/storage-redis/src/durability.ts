import type { StorageDurability } from '@tessera/token-lease';

/** Reads one server setting with CONFIG GET; `[name, value]` comes back (an empty array for an unknown one). */
export type ConfigGet = (name: string) => Promise<string | undefined>;

/**
 * What a Redis keeps across a restart, from its `appendonly`, `appendfsync` and `save`
 * settings. Where CONFIG is refused (managed services often rename or forbid it),
 * `persists` is undefined: the operator has to know.
 */
export async function redisDurability(configGet: ConfigGet): Promise<StorageDurability> {
  let appendonly: string | undefined;
  let appendfsync: string | undefined;
  let save: string | undefined;
  try {
    [appendonly, appendfsync, save] = await Promise.all([configGet('appendonly'), configGet('appendfsync'), configGet('save')]);
  } catch {
    return { persists: undefined, detail: 'unknown: CONFIG GET failed (not allowed here, or Redis unavailable)' };
  }
  if (appendonly === undefined || save === undefined) return { persists: undefined, detail: 'unknown: CONFIG GET answered nothing' };
  const aof = appendonly === 'yes';
  const rdb = save.trim() !== '';
  if (aof) return { persists: true, detail: `appendonly yes (appendfsync ${appendfsync ?? 'unknown'})${rdb ? `, save "${save}"` : ''}` };
  if (rdb) return { persists: true, detail: `snapshots only (save "${save}"): a restart loses the changes since the last snapshot` };
  return { persists: false, detail: 'appendonly no, save ""' };
}
