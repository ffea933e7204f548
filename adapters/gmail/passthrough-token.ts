/** The client's own Google access token (SASL XOAUTH2 / OAUTHBEARER), used as is. */
import { StoreError, type BackendLogin } from '../contract.js';
import type { TokenSource } from '../shared/token-source.js';

export class PassthroughTokens implements TokenSource {
  /** The gateway cannot refresh a client's token: a 401 means the login fails. */
  readonly renewable = false;

  async accessToken(login: BackendLogin): Promise<string> {
    if (login.accessToken === undefined || login.accessToken === '') throw new StoreError('AUTH_FAILED', 'gmail: the login carried no OAuth token');
    return login.accessToken;
  }

  invalidate(): void {}
}
