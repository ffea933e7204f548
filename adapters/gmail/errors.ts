/**
 * Gmail's answers -> StoreError, and the error line an operator needs. Keyed on the HTTP status
 * and `errors[].reason`, never on message texts (Google does not promise them).
 */
import type { Logger } from 'pino';
import { StoreError } from '../contract.js';

/** A non-2xx answer after the retries that apply to it. */
export class GmailHttpError extends Error {
  override readonly name = 'GmailHttpError';
  constructor(
    readonly status: number,
    readonly reason: string,
    detail: string,
    readonly attempts: number,
  ) {
    super(`HTTP ${status} ${reason}${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${detail}`);
  }
}

/** Throttling: per-user or per-project rate limits, and the concurrent-request limit (429). */
export function isRateLimit(status: number, reason: string): boolean {
  return status === 429 || (status === 403 && (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded'));
}

export function isRetryable(status: number, reason: string): boolean {
  return isRateLimit(status, reason) || status === 500 || status === 502 || status === 503 || status === 504;
}

/** The reason of Google's error body (`error.errors[0].reason`, else `error.status`), or the status. */
export function reasonOf(status: number, body: string): { reason: string; message: string } {
  try {
    const e = (JSON.parse(body) as { error?: { message?: string; status?: string; errors?: { reason?: string }[] } }).error;
    return { reason: e?.errors?.[0]?.reason ?? e?.status ?? `http${status}`, message: e?.message ?? '' };
  } catch {
    return { reason: `http${status}`, message: body.slice(0, 200) };
  }
}

export type GmailScope = 'mailbox' | 'message';

/**
 * `scope`: a 404 on one message is that message gone (NOT_FOUND); on the mailbox it is a
 * misconfiguration. `renewable`: a 401 the gateway could not cure with a fresh token of its own
 * is the operator's problem, while a client's token refused is a failed login.
 */
export function classifyGmailError(err: unknown, doing: string, scope: GmailScope, renewable: boolean): StoreError {
  if (err instanceof StoreError) return err;
  if (!(err instanceof GmailHttpError)) return new StoreError('TEMPORARY', `gmail: ${doing}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  const detail = `gmail: ${doing}: ${err.message}`;
  if (err.status === 401) return new StoreError(renewable ? 'PERMANENT' : 'AUTH_FAILED', detail, { cause: err });
  if (err.status === 404) return new StoreError(scope === 'message' ? 'NOT_FOUND' : 'PERMANENT', detail, { cause: err });
  if (isRetryable(err.status, err.reason) || err.reason === 'dailyLimitExceeded') return new StoreError('TEMPORARY', detail, { cause: err });
  return new StoreError('PERMANENT', detail, { cause: err });
}

/** What the refused request was for: reading mail (listing, sizes, RETR, TOP) or changing it (QUIT). */
export type GmailAccess = 'read' | 'change';

/** What an operator must change, when the failure says so. */
export function operatorHint(err: unknown, renewable: boolean, access: GmailAccess): string | undefined {
  if (!(err instanceof GmailHttpError)) return undefined;
  if (err.status === 401 && renewable)
    return "gmail: Google refused a freshly minted token: check the service account's domain-wide delegation and scopes (auth: serviceAccount), or the scopes of the identity provider's consent (auth: grant)";
  if (err.status !== 403 || isRateLimit(err.status, err.reason)) return undefined;
  if (err.reason === 'insufficientPermissions' || err.reason === 'forbidden') {
    // A token that cannot even read is not cured by another deleteMode: every mode reads.
    if (access === 'read') {
      return renewable
        ? "gmail: Google refused to let the token read mail: grant the service account's client id the scope its deleteMode needs (gmail.readonly for keep, gmail.modify, or https://mail.google.com/ for delete) in Admin console > Domain-wide delegation"
        : "gmail: the client's token cannot read mail: it needs gmail.readonly, gmail.modify or https://mail.google.com/ (gmail.metadata is not enough): have users grant one of them";
    }
    return renewable
      ? "gmail: the token lacks the scope this deleteMode needs: grant the service account's client id that scope (Admin console > Domain-wide delegation), or add it to the identity provider's scopes and have users link again (auth: grant), or choose a deleteMode the granted scope allows"
      : "gmail: the client's token lacks the scope this deleteMode needs (gmail.modify, or https://mail.google.com/ for delete): have users grant it, or set deleteMode: keep";
  }
  if (err.reason === 'domainPolicy') return "gmail: the Workspace domain's policy forbids Gmail API access for this app: an administrator must allow it";
  if (err.reason === 'dailyLimitExceeded') return "gmail: the project's daily Gmail API quota is used up: raise it in the Google Cloud console";
  return undefined;
}

/** Logs a failure with its operator hint as an error line; true when there was one. */
export function logOperatorProblem(logger: Logger, err: unknown, renewable: boolean, access: GmailAccess, fields: Record<string, unknown>): boolean {
  const hint = operatorHint(err, renewable, access);
  if (hint === undefined) return false;
  logger.error({ ...fields, err: (err as Error).message }, hint);
  return true;
}
