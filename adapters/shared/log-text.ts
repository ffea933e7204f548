/** Client-chosen text in log lines: bounded and with nothing that could fake or hide a line. */

/** How much of a long name is logged: enough to recognise it, never a 48 KB line. */
const LOGGED_NAME_CHARS = 64;
/**
 * Controls (C0, DEL, C1 such as U+0085 NEL and U+009B CSI), format characters (bidi overrides
 * and isolates, zero-width ones), line and paragraph separators, lone surrogates, and the
 * backslash itself (so an escape in the output always came from here).
 */
const UNSAFE_IN_LOG = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\\]/gu;

/**
 * A name the client chose (login, user name) as it may appear in a log: at most 64 characters,
 * then the total length in octets; characters that could fake or hide log content escaped.
 * Every log of a client-chosen name goes through here.
 */
export function loggableName(name: string): string {
  const chars = Array.from(name);
  const head = chars.length > LOGGED_NAME_CHARS ? chars.slice(0, LOGGED_NAME_CHARS).join('') : name;
  const escaped = head.replace(UNSAFE_IN_LOG, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
  return head === name ? escaped : `${escaped}…[${Buffer.byteLength(name, 'utf8')} octets]`;
}
