/**
 * HTTP answers and transport failures -> StoreError. Where a request was aimed decides what a
 * refusal means: on the listing it concerns the mailbox (or the gateway's credentials), on one
 * message's GET it concerns that message alone.
 */
import { StoreError } from '../contract.js';

export type RestScope = 'mailbox' | 'message';

/** An answer the store gave that the adapter does not accept as success. */
export class HttpStatusError extends Error {
  override readonly name = 'RestHttpStatus';
  constructor(
    readonly status: number,
    /** The store's `code` from its error body, when it sent one. */
    readonly storeCode: string | undefined,
    detail: string,
    readonly attempts: number,
  ) {
    super(`HTTP ${status}${storeCode !== undefined ? ` ${storeCode}` : ''}${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${detail}`);
  }
}

/** Which answers may be sent again: throttling, the store's own failures, a gateway timeout. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export function describeRestError(err: unknown): string {
  if (err instanceof StoreError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
}

/**
 * `credentialsChecked`: the store checks the POP3 user's password (passthrough), so a 401 is
 * that user's wrong password, not the operator's problem.
 */
export function classifyRestError(err: unknown, doing: string, scope: RestScope, credentialsChecked = false): StoreError {
  if (err instanceof StoreError) return err;
  const detail = `rest: ${doing}: ${describeRestError(err)}`;
  if (!(err instanceof HttpStatusError)) return new StoreError('TEMPORARY', detail, { cause: err });
  const s = err.status;
  if (s === 401) return new StoreError(credentialsChecked ? 'AUTH_FAILED' : 'PERMANENT', detail, { cause: err });
  if (s === 404 || s === 412 || s === 410) return new StoreError(scope === 'message' ? 'NOT_FOUND' : 'PERMANENT', detail, { cause: err });
  if (isRetryableStatus(s)) return new StoreError('TEMPORARY', detail, { cause: err });
  return new StoreError('PERMANENT', detail, { cause: err });
}

/** The line an operator needs when the store refuses the gateway itself. */
export function operatorHint(err: unknown, credentialsChecked: boolean): string | undefined {
  const inner = err instanceof StoreError ? err.cause : err;
  if (!(inner instanceof HttpStatusError)) return undefined;
  if (inner.status === 401 && !credentialsChecked) {
    return "rest: the store refused the gateway's credentials (401): check the tenant's secretFile or secretEnv (auth: bearer, basic), or that the store accepts the identity provider's tokens (auth: grant)";
  }
  if (inner.status === 403) return 'rest: the store forbids the gateway this mailbox (403): check what its credentials may read';
  return undefined;
}
