/**
 * Opens the channel's folder again (EXAMINE, or SELECT when the session may write flags) on a
 * connection kept from an earlier session: what the snapshot needs to know whether its cached
 * listing still holds (UIDVALIDITY, HIGHESTMODSEQ, EXISTS), in one round trip.
 */
import { StoreError } from '../../contract.js';
import type { ImapChannel } from './channel.js';
import { mailboxName } from './command-args.js';

export interface FolderState {
  readonly uidValidity: bigint;
  /** Absent without CONDSTORE (or with NOMODSEQ): the snapshot then checks by SEARCH. */
  readonly highestModseq: bigint | undefined;
  readonly exists: number;
}

export async function reopenFolder(channel: ImapChannel, readOnly: boolean): Promise<FolderState> {
  let exists: number | undefined;
  let uidValidity: bigint | undefined;
  let highestModseq: bigint | undefined;
  const { selectedPath, utf8 } = channel.facts;
  const done = await channel.run(`${readOnly ? 'EXAMINE' : 'SELECT'} ${mailboxName(selectedPath, utf8)}`, {
    untagged: (text) => {
      const count = /^\* (\d+) EXISTS\b/i.exec(text);
      if (count !== null) exists = Number(count[1]);
      const validity = /^\* OK \[UIDVALIDITY (\d+)\]/i.exec(text);
      if (validity !== null) uidValidity = BigInt(validity[1] as string);
      const modseq = /^\* OK \[HIGHESTMODSEQ (\d+)\]/i.exec(text);
      if (modseq !== null) highestModseq = BigInt(modseq[1] as string);
    },
  });
  if (done.status !== 'OK') throw new StoreError('TEMPORARY', `imap: re-opening the folder: ${done.status} ${done.text}`);
  if (exists === undefined || uidValidity === undefined) throw new StoreError('TEMPORARY', 'imap: re-opening the folder gave no EXISTS or UIDVALIDITY');
  return { uidValidity, highestModseq, exists };
}
