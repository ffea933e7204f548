/**
 * Where a store gets the bearer token for a login, when the backend takes OAuth tokens: the
 * client's own token passed through, one an adapter mints (a service account acting as the
 * user), or one the gateway mints from a grant it holds (AdapterDeps.tokens). Stores call
 * accessToken() before each request and invalidate() when the backend refuses the token, then
 * ask again once: a source that can mint a new token does, one that cannot fails.
 */
import type { BackendLogin } from './mailbox.js';

export interface TokenSource {
  /**
   * A token for this login, cached while it is valid.
   * @throws StoreError AUTH_FAILED (no usable token for this login), PERMANENT (the gateway's
   *   own grant is refused: an operator must act) or TEMPORARY (the token endpoint is down).
   */
  accessToken(login: BackendLogin, signal: AbortSignal): Promise<string>;
  /** The backend refused `token`: forget it so the next accessToken() mints another (if it can). */
  invalidate(login: BackendLogin, token: string): void;
  /** True when invalidate() can lead to a different token (so a refusal is worth one retry). */
  readonly renewable: boolean;
}
