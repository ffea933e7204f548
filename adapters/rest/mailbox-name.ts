/**
 * Mailbox names from templates: `{user}`, `{local}` and `{domain}` as routing gave them, each
 * percent-encoded as one path segment, so a login can never reach another path of the store.
 */
import { StoreError, type BackendLogin } from '../contract.js';
import { loggableName } from '../shared/log-text.js';

const PLACEHOLDER = /\{([a-z]+)\}/g;
const KNOWN = new Set(['user', 'local', 'domain']);

/** Why a template cannot work, or undefined. */
export function templateProblem(t: string): string | undefined {
  if (t === '') return 'must not be empty';
  for (const [, name] of t.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(name as string)) return `unknown placeholder {${name}} (use {user}, {local}, {domain})`;
  }
  return undefined;
}

/** The path segment naming this login's mailbox (already percent-encoded). */
export function renderMailbox(template: string, login: BackendLogin): string {
  const name = template.replace(PLACEHOLDER, (_, key: string) => {
    const value = key === 'user' ? login.user : key === 'local' ? login.local : login.domain;
    if (value === undefined || value === '') {
      throw new StoreError('PERMANENT', `rest: the mailbox template uses {${key}} but login "${loggableName(login.user)}" has no ${key}`);
    }
    return value;
  });
  return encodeURIComponent(name);
}
