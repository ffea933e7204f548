/**
 * Opening a maildrop with a token the gateway minted (grant, app-only). A cached token the
 * provider revoked since it was issued is refused by the backend: the token is then dropped and
 * the mailbox opened once more with a fresh one, so a revoked grant shows up as the refresh
 * that fails (and marks the link) rather than as a backend refusal.
 */
import type { BackendLogin, Maildrop, TokenSource } from '../../adapters/contract.js';
import { StoreError } from '../errors.js';

export async function openRenewingToken(
  open: (login: BackendLogin) => Promise<Maildrop>,
  login: BackendLogin,
  tokens: TokenSource | undefined,
  signal: AbortSignal,
): Promise<Maildrop> {
  try {
    return await open(login);
  } catch (err) {
    const token = login.accessToken;
    if (!(err instanceof StoreError) || err.code !== 'AUTH_FAILED' || tokens === undefined || token === undefined || !tokens.renewable) throw err;
    tokens.invalidate(login, token);
    const fresh = await tokens.accessToken(login, signal);
    if (fresh === token) throw err;
    return await open({ ...login, accessToken: fresh });
  }
}
