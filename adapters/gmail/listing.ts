/**
 * The login snapshot: every page of messages.list (ids only), oldest first. Gmail does not
 * document the order of a listing (its UI shows newest first, by internalDate), so the ids are
 * reversed, not relied on further: UIDLs, not positions, identify messages to clients.
 */
import type { BackendLogin } from '../contract.js';
import type { GmailClient } from './client.js';
import { GMAIL_LIST_PAGE } from './limits.js';

export interface ListingScope {
  readonly label: string | undefined;
  readonly query: string | undefined;
}

interface ListPage {
  readonly messages?: readonly { readonly id: string }[];
  readonly nextPageToken?: string;
}

export interface Listing {
  readonly ids: readonly string[];
  readonly pages: number;
}

/** The search for one session: the label or query, narrowed to `recent:` logins' window. */
export function listQuery(scope: ListingScope, since: Date | undefined): URLSearchParams {
  const q = new URLSearchParams({ maxResults: String(GMAIL_LIST_PAGE), includeSpamTrash: 'false' });
  const terms: string[] = [];
  if (scope.query !== undefined) terms.push(`(${scope.query})`);
  else q.append('labelIds', scope.label ?? 'INBOX');
  // Epoch seconds: a date would mean midnight PST. Rounded down so the window's first second counts.
  if (since !== undefined) terms.push(`after:${Math.floor(since.getTime() / 1000)}`);
  if (terms.length > 0) q.set('q', terms.join(' '));
  return q;
}

export async function listMailbox(
  client: GmailClient,
  login: BackendLogin,
  scope: ListingScope,
  since: Date | undefined,
  signal: AbortSignal,
): Promise<Listing> {
  const base = listQuery(scope, since);
  const seen = new Set<string>();
  const ids: string[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const query = new URLSearchParams(base);
    if (pageToken !== undefined) query.set('pageToken', pageToken);
    const page = await client.json<ListPage>(login, { op: 'list', path: '', query }, signal);
    pages++;
    // Mail arriving between pages can shift one into the next page: each id once.
    for (const m of page?.messages ?? []) {
      if (!seen.has(m.id)) {
        seen.add(m.id);
        ids.push(m.id);
      }
    }
    pageToken = page?.nextPageToken;
  } while (pageToken !== undefined && pageToken !== '');
  return { ids: ids.reverse(), pages };
}
