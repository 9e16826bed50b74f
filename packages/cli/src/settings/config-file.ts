import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SettingsError } from './settings-error.js';

const FileSchema = z.looseObject({
  profiles: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/**
 * Reads a config file (JSON, or YAML by extension .yaml/.yml) and returns the
 * settings of one profile: the top-level settings, with `profiles[name]` over them.
 */
export function readConfigFile(path: string, profile: string | undefined): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`config file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  const parsed = FileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SettingsError(`config file ${path}: ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  const { profiles, ...base } = parsed.data;
  if (profile === undefined) return base;
  const chosen = profiles?.[profile];
  if (chosen === undefined) {
    const known = Object.keys(profiles ?? {});
    throw new SettingsError(`config file ${path} has no profile "${profile}"${known.length > 0 ? ` (it has: ${known.join(', ')})` : ''}`);
  }
  return { ...base, ...chosen };
}
