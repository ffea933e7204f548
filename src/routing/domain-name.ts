/** Host names as routing compares them: lower-case A-labels (RFC 5890), no trailing dot. */
import { domainToASCII } from 'node:url';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The A-label form of a host name, or undefined when it is not a usable DNS name. */
export function normaliseDomain(raw: string): string | undefined {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  // domainToASCII also decodes %xx, which would let `%` (a routing separator) hide inside a name.
  if (name === '' || name.length > 253 || name.includes('%')) return undefined;
  const ascii = domainToASCII(name);
  if (ascii === '' || ascii.length > 253) return undefined;
  return ascii.split('.').every((label) => LABEL.test(label)) ? ascii : undefined;
}

/** A config pattern: `example.com` or `*.example.com` (any name below it, not the name itself). */
export type DomainPattern = { readonly kind: 'exact'; readonly name: string } | { readonly kind: 'wildcard'; readonly suffix: string };

export function parseDomainPattern(raw: string): DomainPattern | undefined {
  if (raw.startsWith('*.')) {
    const base = normaliseDomain(raw.slice(2));
    return base === undefined ? undefined : { kind: 'wildcard', suffix: `.${base}` };
  }
  const name = normaliseDomain(raw);
  return name === undefined ? undefined : { kind: 'exact', name };
}

export function patternText(p: DomainPattern): string {
  return p.kind === 'exact' ? p.name : `*${p.suffix}`;
}
