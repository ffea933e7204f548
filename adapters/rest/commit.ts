/**
 * The UPDATE state: `POST /mailboxes/{mailbox}/messages:delete` (or `:move` with a destination)
 * in batches, each id's result read from the answer. Never throws: every message not removed is
 * in `failed` with a reason. `not_found` counts as removed: the message is gone either way.
 */
import type { Logger } from 'pino';
import { describeRestError } from './errors.js';
import type { RestClient } from './http.js';
import type { SessionAuth } from './secret.js';
import { REST_COMMIT_BATCH } from './limits.js';

export type CommitPlan = { readonly mode: 'delete' } | { readonly mode: 'keep' } | { readonly mode: 'move'; readonly destination: string };

interface WireResult {
  readonly id?: unknown;
  readonly status?: unknown;
  readonly reason?: unknown;
}

export interface CommitTarget {
  readonly client: RestClient;
  /** Percent-encoded, as in paths. */
  readonly mailbox: string;
  readonly auth: SessionAuth;
  readonly logger: Logger;
}

export async function applyCommit(
  t: CommitTarget,
  plan: CommitPlan,
  ids: readonly string[],
): Promise<{ removed: number; failed: { restId: string; reason: string }[] }> {
  if (plan.mode === 'keep' || ids.length === 0) return { removed: ids.length, failed: [] };
  const done = plan.mode === 'move' ? 'moved' : 'deleted';
  const failed: { restId: string; reason: string }[] = [];
  let alreadyGone = 0;
  for (let i = 0; i < ids.length; i += REST_COMMIT_BATCH) {
    const batch = ids.slice(i, i + REST_COMMIT_BATCH);
    let results: WireResult[];
    try {
      const answer = await t.client.json<{ results?: unknown }>({
        method: 'POST',
        path: `/mailboxes/${t.mailbox}/messages:${plan.mode}`,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        auth: t.auth,
        body: JSON.stringify(plan.mode === 'move' ? { ids: batch, destination: plan.destination } : { ids: batch }),
        // QUIT has been answered by nobody yet: the client waits, so no session signal applies.
        signal: AbortSignal.timeout(120_000),
        ok: [200],
      });
      results = Array.isArray(answer.results) ? (answer.results as WireResult[]) : [];
    } catch (err) {
      // The client already retried what can get better; the other batches are still tried.
      const reason = `${plan.mode}: ${describeRestError(err)}`;
      for (const id of batch) failed.push({ restId: id, reason });
      continue;
    }
    const byId = new Map<string, WireResult>();
    for (const r of results) if (typeof r.id === 'string') byId.set(r.id, r);
    for (const id of batch) {
      const r = byId.get(id);
      if (r?.status === done) continue;
      if (r?.status === 'not_found') {
        alreadyGone++;
        continue;
      }
      const why = typeof r?.reason === 'string' && r.reason !== '' ? r.reason : r === undefined ? 'no result for this id' : `status ${String(r.status)}`;
      failed.push({ restId: id, reason: `${plan.mode}: ${why}` });
    }
  }
  if (alreadyGone > 0) t.logger.warn({ op: 'commit', alreadyGone }, 'rest: messages to remove were already gone (removed by another client)');
  return { removed: ids.length - failed.length, failed };
}
