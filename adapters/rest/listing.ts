/**
 * The login snapshot: every page of `GET /mailboxes/{mailbox}/messages`, in the order the store
 * gives (openapi.yaml: a stable order, oldest first by convention).
 */
import { StoreError } from '../contract.js';
import type { RestClient } from './http.js';
import type { SessionAuth } from './secret.js';

/** One listed message as the store described it. */
export interface RestItem {
  readonly id: string;
  /** CRLF octets, when the store knows them. */
  readonly size: number | undefined;
  readonly etag: string | undefined;
}

interface WireItem {
  readonly id?: unknown;
  readonly size?: unknown;
  readonly received?: unknown;
  readonly etag?: unknown;
}

interface WirePage {
  readonly items?: unknown;
  readonly nextCursor?: unknown;
}

export interface Listing {
  readonly items: RestItem[];
  readonly pages: number;
  /** Items left out: before the `recent:` window, repeated on a later page, or malformed. */
  readonly skipped: number;
}

function bad(what: string): StoreError {
  return new StoreError('TEMPORARY', `rest: the store's listing does not follow the contract: ${what}`);
}

export async function listMailbox(
  client: RestClient,
  mailbox: string,
  auth: SessionAuth,
  pageSize: number,
  signal: AbortSignal,
  since?: Date,
): Promise<Listing> {
  const items: RestItem[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let pages = 0;
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(pageSize), ...(cursor !== undefined && { cursor }) });
    const page = await client.json<WirePage>({
      method: 'GET',
      path: `/mailboxes/${mailbox}/messages?${query.toString()}`,
      headers: { accept: 'application/json' },
      auth,
      signal,
      ok: [200],
    });
    pages++;
    if (!Array.isArray(page.items)) throw bad('no items array');
    for (const raw of page.items as WireItem[]) {
      if (typeof raw.id !== 'string' || raw.id === '') throw bad('an item without an id');
      // A message that moved between pages while they were read is listed once, where first seen.
      if (seen.has(raw.id)) {
        skipped++;
        continue;
      }
      seen.add(raw.id);
      if (since !== undefined && typeof raw.received === 'string') {
        const at = Date.parse(raw.received);
        if (!Number.isNaN(at) && at < since.getTime()) {
          skipped++;
          continue;
        }
      }
      const size = Number.isSafeInteger(raw.size) && (raw.size as number) >= 0 ? (raw.size as number) : undefined;
      items.push({ id: raw.id, size, etag: typeof raw.etag === 'string' && raw.etag !== '' ? raw.etag : undefined });
    }
    const next = page.nextCursor;
    if (next !== undefined && next !== null && (typeof next !== 'string' || next === '')) throw bad('nextCursor is not a string');
    if (typeof next === 'string' && next === cursor) throw bad('nextCursor repeats the cursor it was asked for');
    cursor = typeof next === 'string' ? next : undefined;
  } while (cursor !== undefined);
  return { items, pages, skipped };
}
