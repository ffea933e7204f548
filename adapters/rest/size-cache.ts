/**
 * CRLF sizes measured by streaming, per tenant, keyed by mailbox, message id and ETag: an id is
 * unique only within its mailbox (R2), and the ETag changes with the bytes (R4). A message
 * without an ETag is measured in every session: nothing tells its replacement apart. Kept in
 * memory (bounded by the octets it holds, since ids may be long) in front of the gateway's size
 * book (Redis) or, without one, with `stateDir`, a file.
 */
import type { KnownSizes } from '../shared/known-sizes.js';
import type { MessageRef } from './messages.js';

export class SizeCache {
  constructor(private readonly sizes: KnownSizes) {}

  /** The sizes of one mailbox's messages; `mailbox` percent-encoded, as in paths. */
  of(mailbox: string): MailboxSizes {
    return new MailboxSizes(this.sizes, mailbox);
  }

  flush(): Promise<void> {
    return this.sizes.flush();
  }
}

export class MailboxSizes {
  constructor(
    private readonly sizes: KnownSizes,
    private readonly mailbox: string,
  ) {}

  /** Sizes known for these messages (memory, then the book), in their order. */
  async known(msgs: readonly MessageRef[]): Promise<(number | undefined)[]> {
    const withTag = msgs.flatMap((m, i) => (m.etag === undefined ? [] : [i]));
    const found = await this.sizes.known(withTag.map((i) => this.key(msgs[i] as MessageRef)));
    const out = new Array<number | undefined>(msgs.length);
    withTag.forEach((i, j) => (out[i] = found[j]));
    return out;
  }

  get(msg: MessageRef): number | undefined {
    return msg.etag === undefined ? undefined : this.sizes.cached(this.key(msg));
  }

  set(msg: MessageRef, size: number): void {
    if (msg.etag !== undefined) this.sizes.remember(this.key(msg), size);
  }

  /** `mailbox/id/etag`: the mailbox and the encoded id hold no `/`, so no two messages share a key. */
  private key(msg: MessageRef): string {
    return `${this.mailbox}/${encodeURIComponent(msg.restId)}/${msg.etag ?? ''}`;
  }
}
