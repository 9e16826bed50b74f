import type { z } from 'zod';
import { InvalidOptionsError } from '@tessera/token-lease';

/** Parses with a zod schema; failures become InvalidOptionsError naming paths and rules, never values. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`);
  throw new InvalidOptionsError(`invalid ${what}: ${issues.join('; ')}`);
}
