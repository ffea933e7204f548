/**
 * Login names as typed by POP3 clients: the optional `recent:` prefix, then a user name that
 * may carry a host part after `@`, `%` or `+` (SDPS style).
 */

export const SEPARATORS = ['@', '%', '+'] as const;
export type Separator = (typeof SEPARATORS)[number];

/** RFC 5321: 64 octets of local part, `@`, 255 of domain. */
export const MAX_LOGIN_NAME = 320;

const RECENT_PREFIX = 'recent:';
/** C0 controls, space, DEL and C1 controls: never part of a user name. (Logs escape names: loggableName.) */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const FORBIDDEN = /[\u0000-\u0020\u007f-\u009f]/u;

export interface LoginName {
  /** The name without the `recent:` prefix. */
  readonly name: string;
  /** The client asked for Gmail-style recent mode. */
  readonly recent: boolean;
}

/** Undefined for a name no tenant can ever accept: empty, over-long, control characters. */
export function parseLoginName(raw: string): LoginName | undefined {
  const recent = raw.length > RECENT_PREFIX.length && raw.slice(0, RECENT_PREFIX.length).toLowerCase() === RECENT_PREFIX;
  const name = recent ? raw.slice(RECENT_PREFIX.length) : raw;
  if (name === '' || name.length > MAX_LOGIN_NAME || FORBIDDEN.test(name)) return undefined;
  return { name, recent };
}

export interface SplitName {
  readonly local: string;
  readonly host: string;
}

/** Splits at the last `sep`; undefined when either side would be empty. */
export function splitAt(name: string, sep: Separator): SplitName | undefined {
  const at = name.lastIndexOf(sep);
  if (at <= 0 || at === name.length - 1) return undefined;
  return { local: name.slice(0, at), host: name.slice(at + 1) };
}
