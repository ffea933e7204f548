/** UID SEARCH over the channel: the classic `* SEARCH` answer, or `* ESEARCH` under IMAP4rev2. */
import { StoreError } from '../../contract.js';
import type { ImapChannel } from './channel.js';
import { sequenceRanges } from './command-args.js';

export interface SearchResult {
  has(uid: number): boolean;
  /** The UIDs in ascending order, or undefined if there would be more than `limit`. */
  list(limit: number): number[] | undefined;
}

export async function uidSearch(channel: ImapChannel, criteria: string, doing: string): Promise<SearchResult> {
  const found: number[] = [];
  const ranges: Array<readonly [number, number]> = [];
  let answered = false;
  let malformed = false;
  // ESEARCH answers in ranges: a folder of 200,000 messages would otherwise be one 1.5 MB line.
  const returnAll = channel.has('ESEARCH') ? 'RETURN (ALL) ' : '';
  const done = await channel.run(`UID SEARCH ${returnAll}${criteria}`, {
    untagged: (text) => {
      const plain = /^\* SEARCH\b(.*)$/i.exec(text);
      const extended = /^\* ESEARCH\b(.*)$/i.exec(text);
      if (plain !== null) {
        answered = true;
        for (const n of (plain[1] ?? '').trim().split(/\s+/)) if (/^\d{1,10}$/.test(n)) found.push(Number(n));
      } else if (extended !== null) {
        answered = true;
        const all = /\bALL\s+(\S+)/i.exec(extended[1] ?? '');
        if (all !== null) {
          const parsed = sequenceRanges(all[1] as string);
          if (parsed === undefined) malformed = true;
          else for (const range of parsed) ranges.push(range);
        }
      }
    },
  });
  if (done.status !== 'OK') throw new StoreError('TEMPORARY', `imap: ${doing}: ${done.status} ${done.text}`);
  // No answer is not "none found": nothing may be concluded from a guess.
  if (!answered) throw new StoreError('TEMPORARY', `imap: ${doing}: the server sent no SEARCH result`);
  if (malformed) throw new StoreError('TEMPORARY', `imap: ${doing}: the server sent a malformed ESEARCH result`);
  const listed = new Set(found);
  return {
    has: (uid) => listed.has(uid) || ranges.some(([low, high]) => uid >= low && uid <= high),
    list: (limit) => {
      const all = new Set(found);
      for (const [low, high] of ranges) {
        if (high - low + all.size >= limit) return undefined;
        for (let uid = low; uid <= high; uid++) all.add(uid);
      }
      return all.size > limit ? undefined : [...all].sort((x, y) => x - y);
    },
  };
}
