// A resource in a lease policy may name the caller's attributes: `{bucket}` is
// the value of the caller's attribute `bucket` (docs: packages/token-lease/README.md).

/** An attribute name as policies write it (in `match` and in a placeholder). */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const PLACEHOLDER = /\{([A-Za-z0-9_.:-]{1,64})\}/g;

/** Why a resource template is malformed, or undefined when it is fine: braces only around an attribute name. */
export function templateProblem(template: string): string | undefined {
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    return 'a placeholder is {attribute} (letters, digits, "_", ".", ":" or "-", at most 64); no other "{" or "}"';
  }
  return undefined;
}

/**
 * The template with each `{name}` replaced by the attribute `name`; undefined
 * when an attribute it names is missing or empty, or the result is longer than
 * `maxLength` (the rule then does not match).
 */
export function resolveTemplate(template: string, attributes: Readonly<Record<string, string>>, maxLength: number): string | undefined {
  let missing = false;
  const resolved = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  return missing || resolved.length > maxLength ? undefined : resolved;
}
