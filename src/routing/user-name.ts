/**
 * What the backend sees of a routed login: `local`, `full` (`local@domain`), or a template
 * such as `{local}@{domain}` or `{domain}/{local}` (S3 prefixes).
 */

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = new Set(['local', 'domain', 'login']);

export interface NameParts {
  /** The name as typed, without the `recent:` prefix. */
  readonly login: string;
  readonly local: string;
  /** Lower-case A-label; undefined when the login was not routed by a domain. */
  readonly domain: string | undefined;
}

/** Problems with a `userName` setting, for the config check. */
export function userNameProblems(rule: string): string[] {
  if (rule === 'local' || rule === 'full') return [];
  const names = [...rule.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
  const problems = names.filter((n) => !KNOWN.has(n)).map((n) => `unknown placeholder {${n}} (use {local}, {domain} or {login})`);
  if (!names.includes('local') && !names.includes('login')) problems.push("must be 'local', 'full' or a template containing {local} or {login}");
  return problems;
}

export function usesDomain(rule: string): boolean {
  return rule !== 'local' && rule !== 'full' && rule.includes('{domain}');
}

/** The backend user name, or undefined when the rule needs a domain the login did not have. */
export function backendUserName(rule: string, parts: NameParts): string | undefined {
  switch (rule) {
    case 'local':
      return parts.local;
    case 'full':
      return parts.domain === undefined ? parts.local : `${parts.local}@${parts.domain}`;
    default:
      if (usesDomain(rule) && parts.domain === undefined) return undefined;
      return rule.replace(PLACEHOLDER, (_, key: string) => (key === 'local' ? parts.local : key === 'domain' ? (parts.domain ?? '') : parts.login));
  }
}
