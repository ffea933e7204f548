/**
 * Key prefix templates (`inbound/{domain}/{local}/`): which part of the bucket is one mailbox.
 *
 * One mailbox must never be able to list another's objects, so the rules are about prefixes:
 *  - every placeholder fills whole path segments (`inbound/{local}.{domain}/` is refused: there
 *    `a.b`@`c` and `a`@`b.c` would share a folder);
 *  - a value is made of safe segments (not empty, not `.` or `..`, no control characters), and
 *    every login of a tenant gives each placeholder the same number of segments, so all of a
 *    template's renderings have the same number of `/`s and end with one: none can be a prefix of
 *    another (`al/` never lists `alice/`, and `example.com/` never lists `example.com/john/`);
 *  - two templates of one tenant (the mailbox and a `move:` archive) must differ in their fixed
 *    text before the first placeholder (see {@link overlapProblem}).
 */
import { StoreError, type BackendLogin } from '../contract.js';
import { loggableName } from '../shared/log-text.js';

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
  for (const m of template.matchAll(PLACEHOLDER)) {
    const before = m.index === 0 ? '/' : template[m.index - 1];
    const after = template[m.index + m[0].length];
    if (before !== '/' || after !== '/') return `${m[0]} must fill a whole path segment, between "/"s (two logins could otherwise share a folder)`;
  }
  if (template.includes('//')) return 'has an empty path segment ("//")';
  return undefined;
}

/** The text before the first placeholder: every rendering of the template starts with it. */
function fixedHead(template: string): string {
  const first = template.search(/\{/);
  return first < 0 ? template : template.slice(0, first);
}

/**
 * Why two templates could name overlapping key ranges, or undefined when they cannot. Sound
 * and simple: when neither fixed head is a prefix of the other, they differ at some octet that
 * every rendering of each keeps, so no rendering of one is a prefix of a rendering of the other.
 * (A finer rule that looked at the text after placeholders would have to reason about values.)
 */
export function overlapProblem(a: string, b: string): string | undefined {
  const ha = fixedHead(a);
  const hb = fixedHead(b);
  if (!ha.startsWith(hb) && !hb.startsWith(ha)) return undefined;
  return `"${a}" and "${b}" could overlap: the text before the first placeholder of one ("${ha}", "${hb}") must not begin the other's`;
}

/**
 * How many path segments `{user}` has for every login of a tenant: one, or as many as its
 * `userName` template makes (`{domain}/{local}` gives two). A user name with more or fewer
 * (a local part holding `/`) is refused, so no mailbox can be a prefix of another.
 */
export function userSegmentsOf(userNameRule: string): number {
  if (userNameRule === 'local' || userNameRule === 'full') return 1;
  return userNameRule.replace(PLACEHOLDER, '').split('/').length;
}

/** Control characters, which S3 allows in keys but no mailbox name needs. */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const UNSAFE = /[\x00-\x1f\x7f]/;

function isSafeSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !UNSAFE.test(s);
}

function valueOf(name: Placeholder, login: BackendLogin, userSegments: number): string {
  // Exactly as routing gave them: a login routed to the default tenant has no domain, and its
  // local part is the whole name (an `@` in it is not a domain nobody routed).
  const value = name === 'user' ? login.user : name === 'local' ? login.local : login.domain;
  if (value === undefined || value === '') {
    throw new StoreError(
      'PERMANENT',
      `s3: the prefix template uses {${name}} but this login has no ${name === 'domain' ? 'domain (log in as user@domain)' : name}`,
    );
  }
  const segments = value.split('/');
  const wanted = name === 'user' ? userSegments : 1;
  if (segments.length !== wanted || !segments.every(isSafeSegment)) {
    const shape = wanted === 1 ? 'one path segment' : `${wanted} path segments (as the tenant's userName makes)`;
    throw new StoreError(
      'PERMANENT',
      `s3: {${name}} "${loggableName(value)}" cannot be used in a key prefix: it must be ${shape}, none empty, "." or ".." and without control characters`,
    );
  }
  return value;
}

/** The prefix for this login; StoreError PERMANENT when a placeholder has no usable value. */
export function renderPrefix(template: string, login: BackendLogin, userSegments = 1): string {
  return template.replace(PLACEHOLDER, (_, name: string) => valueOf(name as Placeholder, login, userSegments));
}
