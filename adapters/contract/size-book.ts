/**
 * Exact message sizes (the CRLF octets RETR sends) kept outside the process: shared by the
 * gateway's instances and surviving restarts. The gateway hands a store one through
 * `AdapterDeps.sizeBook` when it has such a place (Redis); a store without one keeps its sizes
 * itself (a file under its `stateDir`, or memory only). A size stored under a key must never
 * change, so a key names one version of one message (an id plus its ETag, or an immutable id).
 */
export interface DurableSizes {
  /**
   * The sizes recorded under these keys, in their order; undefined for a key not recorded, or
   * when the book cannot be read now. Never rejects: a failing book reads as "not known" and the
   * store measures, so an outage costs requests, never a login or a wrong size.
   */
  get(keys: readonly string[]): Promise<readonly (number | undefined)[]>;
  /** Records sizes learned; never rejects (a failure is logged by the book, and those sizes are measured again later). */
  set(entries: readonly (readonly [key: string, size: number])[]): Promise<void>;
}

/**
 * A book for one tenant's store, keys namespaced by the gateway (tenant) and by `namespace`:
 * the adapter's kind, lower-case letters, digits and dashes.
 */
export type SizeBookFactory = (namespace: string) => DurableSizes;
