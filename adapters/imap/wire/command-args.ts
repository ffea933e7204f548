/** Arguments of the IMAP commands a session sends: UID sets and mailbox names. */
import iconv from 'iconv-lite';
import { StoreError } from '../../contract.js';

/** Longest UID set per command: well under any server's command-line limit (Dovecot: 64 KiB). */
export const MAX_UID_SET_CHARS = 8000;

/** `1:3,7,9:10`: runs of consecutive UIDs collapsed. */
export function uidSet(uids: readonly number[]): string {
  return uidSets(uids, Number.POSITIVE_INFINITY)[0] ?? '';
}

/**
 * The UIDs as sets of at most `maxChars` characters each: servers limit the command line
 * (Dovecot to 64 KiB), and deleting every other one of 12,000 messages would pass that.
 */
export function uidSets(uids: readonly number[], maxChars: number): string[] {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const sets: string[] = [];
  let current = '';
  for (let i = 0; i < sorted.length; i++) {
    const first = sorted[i] as number;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i] as number;
    const range = first === last ? String(first) : `${first}:${last}`;
    if (current !== '' && current.length + 1 + range.length > maxChars) {
      sets.push(current);
      current = '';
    }
    current = current === '' ? range : `${current},${range}`;
  }
  if (current !== '') sets.push(current);
  return sets;
}

/** A sequence set as a server sends it (`3:4,7`, either bound first) as [low, high] ranges; undefined if malformed. */
export function sequenceRanges(set: string): Array<readonly [number, number]> | undefined {
  if (!/^\d+(:\d+)?(,\d+(:\d+)?)*$/.test(set)) return undefined;
  return set.split(',').map((part) => {
    const [a, b = a] = part.split(':').map(Number) as [number, number?];
    return [Math.min(a, b), Math.max(a, b)] as const;
  });
}

/** A folder name as imapflow opens it: INBOX in any case is INBOX; others get the namespace prefix. */
export function withNamespace(name: string, prefix: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  return prefix === '' || name.startsWith(prefix) ? name : prefix + name;
}

/**
 * A mailbox name as an IMAP quoted string: UTF-8 where the server accepts it (RFC 6855),
 * otherwise modified UTF-7 (RFC 3501 5.1.3).
 */
export function mailboxName(name: string, utf8: boolean): string {
  if (/[\r\n\0]/.test(name)) throw new StoreError('PERMANENT', `imap: the folder name ${JSON.stringify(name)} cannot be sent`);
  const wire = utf8 || (/^[\x20-\x7e]*$/.test(name) && !name.includes('&')) ? name : iconv.encode(name, 'utf7imap').toString('latin1');
  return `"${wire.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}
