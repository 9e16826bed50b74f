import type { z } from 'zod';
import { readConfigFile } from './config-file.js';
import { SettingsError } from './settings-error.js';

/** One setting: its key in the schema, its command-line flag and its env variable. */
export interface SettingSpec {
  key: string;
  flag: string;
  env: string;
  /** How an env or flag string becomes the value (default: as is). */
  parse?: (text: string) => unknown;
}

export interface SettingsSources {
  /** Values given on the command line (only those given). */
  cli: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  configPath?: string | undefined;
  profile?: string | undefined;
}

/**
 * Resolves settings in one order: command line > env > config file (its
 * profile over its top level) > schema defaults, then validates them; an
 * error names the field as the user wrote it (flag, env variable or file key).
 */
export function resolveSettings<S extends z.ZodType>(schema: S, specs: readonly SettingSpec[], sources: SettingsSources): z.output<S> {
  const file = sources.configPath === undefined ? {} : readConfigFile(sources.configPath, sources.profile);
  const known = new Set(specs.map((s) => s.key));
  for (const key of Object.keys(file)) {
    if (!known.has(key)) throw new SettingsError(`config file ${sources.configPath}: unknown setting "${key}" (known: ${[...known].join(', ')})`);
  }
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const spec of specs) {
    const fromCli = sources.cli[spec.key];
    const fromEnv = sources.env[spec.env];
    if (fromCli !== undefined) {
      merged[spec.key] = typeof fromCli === 'string' && spec.parse ? spec.parse(fromCli) : fromCli;
      origin[spec.key] = `--${spec.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      merged[spec.key] = spec.parse ? spec.parse(fromEnv) : fromEnv;
      origin[spec.key] = spec.env;
    } else if (file[spec.key] !== undefined && file[spec.key] !== null) {
      // (null in a profile clears what the file's top level set)
      merged[spec.key] = file[spec.key];
      origin[spec.key] = `config file field "${spec.key}"`;
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const spec = specs.find((s) => s.key === key);
    const where = origin[key] ?? (spec ? `--${spec.flag}` : key || 'settings');
    // a field inside a structured setting (a policy's rule) is named by its whole path
    const inside = (issue?.path.length ?? 0) > 1 ? ` at ${issue!.path.join('.')}` : '';
    throw new SettingsError(`invalid ${where}${inside}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

