/** Arguments of the IMAP commands a session sends: UID sets and mailbox names. */
import iconv from 'iconv-lite';
import { StoreError } from '../../../src/errors.js';

/** `1:3,7,9:10`: runs of consecutive UIDs collapsed, so 10,000 UIDs still fit a command line. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i] as number;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i] as number;
    ranges.push(first === last ? String(first) : `${first}:${last}`);
    i++;
  }
  return ranges.join(',');
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
