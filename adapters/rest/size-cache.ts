/**
 * CRLF sizes measured by streaming, per tenant, keyed by message id + ETag (a message without
 * an ETag is measured in every session: nothing tells its replacement apart). Bounded by the
 * memory it holds, not a count, since ids may be long. Per process only: a persistent size store
 * shared by instances may come from the gmail work (adapters/shared/) and would slot in here.
 */
import { LRUCache } from 'lru-cache';
import { REST_SIZE_CACHE_BYTES, REST_SIZE_CACHE_ENTRY_OVERHEAD } from './limits.js';
import type { MessageRef } from './messages.js';

export class SizeCache {
  private readonly lru = new LRUCache<string, number>({
    maxSize: REST_SIZE_CACHE_BYTES,
    // Two octets a character: ids may be any Unicode.
    sizeCalculation: (_, key) => 2 * key.length + REST_SIZE_CACHE_ENTRY_OVERHEAD,
  });

  get(msg: MessageRef): number | undefined {
    return msg.etag === undefined ? undefined : this.lru.get(key(msg));
  }

  set(msg: MessageRef, size: number): void {
    if (msg.etag !== undefined) this.lru.set(key(msg), size);
  }
}

function key(msg: MessageRef): string {
  return `${msg.restId}\0${msg.etag ?? ''}`;
}
