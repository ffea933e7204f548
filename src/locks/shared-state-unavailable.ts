/**
 * The store of the state gateway processes share (locks, LOGIN-DELAY times, tenant session
 * counts) cannot be used now. A login that meets it is refused with [SYS/TEMP]: a lock that
 * cannot be taken must never be skipped. The outage itself is logged by the store, once.
 */
export class SharedStateUnavailable extends Error {
  override readonly name = 'SharedStateUnavailable';

  constructor(what: string) {
    super(`shared state unavailable: ${what}`);
  }
}
