/**
 * Key prefix templates (`inbound/{domain}/{local}/`): which part of the bucket is one mailbox.
 * A placeholder value can never reach outside its own path segment (no `/`, no `.` or `..`),
 * and a prefix ends with `/`, so `al` cannot list `alice`'s mail.
 */
import { StoreError } from '../../src/errors.js';
import type { BackendLogin } from '../contract.js';

export const PLACEHOLDERS = ['user', 'local', 'domain'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Why a template cannot be used, or undefined when it is fine. */
export function templateProblem(template: string): string | undefined {
  if (template === '') return undefined;
  if (template.startsWith('/')) return 'must not start with "/" (S3 keys have no leading slash)';
  if (!template.endsWith('/')) return 'must end with "/" (or be empty: the whole bucket is one mailbox)';
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1] as string)) return `unknown placeholder {${m[1]}} (use {user}, {local}, {domain})`;
  }
  if (template.replace(PLACEHOLDER, '').match(/[{}]/)) return 'has an unmatched "{" or "}"';
  return undefined;
}

export function placeholdersOf(template: string): Set<Placeholder> {
  return new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as Placeholder));
}

/** Control characters, which S3 allows in keys but no mailbox name needs. */
const UNSAFE = /[\x00-\x1f\x7f]/;

function safeSegment(name: Placeholder, value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new StoreError('PERMANENT', `s3: the prefix template uses {${name}} but this login has no ${name === 'domain' ? 'domain (log in as user@domain)' : name}`);
  }
  if (value.includes('/') || value === '.' || value === '..' || UNSAFE.test(value)) {
    throw new StoreError('PERMANENT', `s3: {${name}} ${JSON.stringify(value)} cannot be used in a key prefix`);
  }
  return value;
}

/**
 * The values for a login. The router gives the local part and domain; a login routed without
 * them (the default tenant, `userName: full`) has them taken from a `local@domain` user name.
 */
export function placeholderValues(login: BackendLogin): Record<Placeholder, string | undefined> {
  const at = login.user.lastIndexOf('@');
  const split = at > 0 && at < login.user.length - 1;
  return {
    user: login.user,
    local: login.local ?? (split ? login.user.slice(0, at) : login.user),
    domain: (login.domain ?? (split ? login.user.slice(at + 1) : undefined))?.toLowerCase(),
  };
}

/** The prefix for this login; StoreError PERMANENT when a placeholder has no usable value. */
export function renderPrefix(template: string, login: BackendLogin): string {
  const values = placeholderValues(login);
  return template.replace(PLACEHOLDER, (_, name: string) => safeSegment(name as Placeholder, values[name as Placeholder]));
}
