/**
 * Exact POP3 sizes (CRLF octets) of Gmail messages. `sizeEstimate` is documented as an estimate,
 * so a size is counted from the decoded `raw` bytes, streamed through once and never held. A
 * Gmail message never changes, so a count is kept for good under `user/id`: per tenant in memory
 * and in the gateway's size book (Redis) or, without one, with `stateDir`, in a file.
 */
import { setMaxListeners } from 'node:events';
import { StoreError, type BackendLogin } from '../contract.js';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import { mapLimit } from '../shared/map-limit.js';
import type { KnownSizes } from '../shared/known-sizes.js';
import { GmailHttpError } from './errors.js';
import type { MessageReader } from './messages.js';

export interface Resolved {
  readonly sizes: ReadonlyMap<string, number>;
  /** Listed, but deleted since: announced as 0 octets (RETR of them fails with -ERR). */
  readonly gone: readonly string[];
  /** Counted now (not from the cache). */
  readonly measured: number;
}

export class GmailSizes {
  constructor(
    private readonly store: KnownSizes,
    private readonly reader: MessageReader,
    private readonly concurrency: number,
  ) {}

  /** The sizes known for a listing (memory, then the book), in its order. */
  known(login: BackendLogin, ids: readonly string[]): Promise<(number | undefined)[]> {
    return this.store.known(ids.map((id) => keyOf(login, id)));
  }

  cached(login: BackendLogin, id: string): number | undefined {
    return this.store.cached(keyOf(login, id));
  }

  remember(login: BackendLogin, id: string, size: number): void {
    this.store.remember(keyOf(login, id), size);
  }

  async resolve(login: BackendLogin, ids: readonly string[], signal: AbortSignal): Promise<Resolved> {
    const sizes = new Map<string, number>();
    const todo: string[] = [];
    for (const id of ids) {
      const c = this.cached(login, id);
      if (c !== undefined) sizes.set(id, c);
      else todo.push(id);
    }
    const gone: string[] = [];
    // Every request in flight listens on the signal: one of our own, allowed that many listeners.
    const batch = new AbortController();
    setMaxListeners(this.concurrency * 4, batch.signal);
    const abort = (): void => batch.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    try {
      await mapLimit(todo, this.concurrency, async (id) => {
        batch.signal.throwIfAborted();
        try {
          const size = await this.measure(login, id, batch.signal);
          this.remember(login, id, size);
          sizes.set(id, size);
        } catch (err) {
          if (!isGone(err)) throw err;
          gone.push(id);
          sizes.set(id, 0);
        }
      });
    } catch (err) {
      // Throttled past the retries, an outage, a refused token: stop the requests still running.
      batch.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
    return { sizes, gone, measured: todo.length - gone.length };
  }

  private async measure(login: BackendLogin, id: string, signal: AbortSignal): Promise<number> {
    const counter = new CrlfSizeCounter();
    for await (const chunk of await this.reader.open(login, id, signal)) counter.push(chunk as Buffer);
    return counter.octets;
  }
}

/** Deleted since the listing: messages.get answers 404 (as an HTTP error; nothing has classified it yet). */
function isGone(err: unknown): boolean {
  return (err instanceof GmailHttpError && err.status === 404) || (err instanceof StoreError && err.code === 'NOT_FOUND');
}

function keyOf(login: BackendLogin, id: string): string {
  return `${login.user}/${id}`;
}
