/** The token source a grant tenant's store gets: the account's token from the broker, renewed on refusal. */
import { StoreError, type BackendLogin, type TokenSource } from '../../adapters/contract.js';
import type { TokenBroker } from './token-broker.js';

export class GrantTokens implements TokenSource {
  readonly renewable = true;

  constructor(
    private readonly broker: TokenBroker,
    private readonly provider: string,
  ) {}

  async accessToken(login: BackendLogin, signal: AbortSignal): Promise<string> {
    if (login.account === undefined) throw new StoreError('AUTH_FAILED', 'identity: this login names no gateway account with a grant');
    return await this.broker.accessToken(login.account, this.provider, signal);
  }

  invalidate(login: BackendLogin, token: string): void {
    if (login.account !== undefined) this.broker.invalidate(login.account, this.provider, token);
  }
}
