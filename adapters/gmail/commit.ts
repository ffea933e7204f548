/**
 * UPDATE state: the session's deletions as batchModify (trash, archive, markRead) or
 * batchDelete, up to 1,000 ids per request. A batch Gmail refuses for its content (one bad id
 * fails the whole request) is retried id by id, so one message cannot keep the others; a
 * message already gone counts as removed. Never throws: failures are reported per id.
 */
import type { Logger } from 'pino';
import { StoreError, type BackendLogin } from '../contract.js';
import type { GmailClient, GmailRequest } from './client.js';
import type { GmailTenantConfig } from './config.js';
import { GmailHttpError } from './errors.js';
import { GMAIL_CHANGE_BATCH } from './limits.js';

export type DeleteMode = GmailTenantConfig['deleteMode'];

export interface Applied {
  readonly removed: number;
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
}

const LABEL_CHANGES: Record<Exclude<DeleteMode, 'delete' | 'keep'>, { addLabelIds: string[]; removeLabelIds: string[] }> = {
  trash: { addLabelIds: ['TRASH'], removeLabelIds: ['INBOX'] },
  archive: { addLabelIds: [], removeLabelIds: ['INBOX'] },
  markRead: { addLabelIds: [], removeLabelIds: ['UNREAD'] },
};

export async function applyDeletions(
  client: GmailClient,
  login: BackendLogin,
  mode: DeleteMode,
  ids: readonly string[],
  logger: Logger,
  /** Sees each failure of a whole batch (for the operator's log line). */
  report: (err: unknown) => void,
): Promise<Applied> {
  if (mode === 'keep' || ids.length === 0) return { removed: ids.length, failed: [] };
  // UPDATE must finish even when the client has gone: not tied to the session's signal.
  const signal = new AbortController().signal;
  let removed = 0;
  const failed: { id: string; reason: string }[] = [];
  for (let at = 0; at < ids.length; at += GMAIL_CHANGE_BATCH) {
    const batch = ids.slice(at, at + GMAIL_CHANGE_BATCH);
    try {
      await client.json(login, batchRequest(mode, batch), signal);
      removed += batch.length;
    } catch (err) {
      if (!refusedForContent(err)) {
        report(err);
        const reason = describe(err);
        for (const id of batch) failed.push({ id, reason });
        continue;
      }
      logger.debug({ op: 'commit', ids: batch.length, err: describe(err) }, 'gmail: batch refused; changing the messages one by one');
      for (const id of batch) {
        try {
          await client.json(login, singleRequest(mode, id), signal);
          removed++;
        } catch (one) {
          if (one instanceof GmailHttpError && one.status === 404) removed++;
          else failed.push({ id, reason: describe(one) });
        }
      }
    }
  }
  return { removed, failed };
}

function batchRequest(mode: Exclude<DeleteMode, 'keep'>, ids: readonly string[]): GmailRequest {
  if (mode === 'delete') return { op: 'batchDelete', path: '/batchDelete', method: 'POST', json: { ids } };
  return { op: 'batchModify', path: '/batchModify', method: 'POST', json: { ids, ...LABEL_CHANGES[mode] } };
}

function singleRequest(mode: Exclude<DeleteMode, 'keep'>, id: string): GmailRequest {
  const path = `/${encodeURIComponent(id)}`;
  if (mode === 'delete') return { op: 'delete', path, method: 'DELETE' };
  return { op: 'modify', path: `${path}/modify`, method: 'POST', json: LABEL_CHANGES[mode] };
}

/** 400 and 404: the request's ids are the problem (not the token, the quota or an outage). */
function refusedForContent(err: unknown): boolean {
  return err instanceof GmailHttpError && (err.status === 400 || err.status === 404);
}

function describe(err: unknown): string {
  return err instanceof GmailHttpError || err instanceof StoreError ? err.message : String(err);
}
