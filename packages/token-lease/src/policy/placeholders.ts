// A resource in a lease policy may name the caller's attributes: `{bucket}` is
// the value of the caller's attribute `bucket` (docs: packages/token-lease/README.md).

/** An attribute name as policies write it (in `match` and in a placeholder). */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

const PLACEHOLDER = /\{([A-Za-z0-9_.:-]{1,64})\}/g;

/**
 * What an attribute's value must be to stand in for a placeholder: a letter or
 * digit, then letters, digits, `.`, `_` or `-`, 255 characters at most. So no
 * value makes a resource the rule's author did not mean (`_internal`, `../x`,
 * `a/b`, a space, a 256-character name).
 */
export const PLACEHOLDER_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Why a resource template is malformed, or undefined when it is fine: braces only around an attribute name. */
export function templateProblem(template: string): string | undefined {
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    return 'a placeholder is {attribute} (letters, digits, "_", ".", ":" or "-", at most 64); no other "{" or "}"';
  }
  return undefined;
}

/**
 * The template with each `{name}` replaced by the attribute `name`; undefined
 * when an attribute it names is missing or is not a PLACEHOLDER_VALUE (empty
 * included), or the result is longer than `maxLength` (the rule then does not match).
 */
export function resolveTemplate(template: string, attributes: Readonly<Record<string, string>>, maxLength: number): string | undefined {
  let unfit = false;
  const resolved = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    if (value === undefined || !PLACEHOLDER_VALUE.test(value)) unfit = true;
    return value ?? '';
  });
  return unfit || resolved.length > maxLength ? undefined : resolved;
}
