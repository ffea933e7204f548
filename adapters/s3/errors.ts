/**
 * SDK failures -> StoreError, and the log line an operator needs. By the time an error reaches
 * here the SDK's retry strategy has already retried what can get better (SlowDown, 5xx, resets,
 * refused connections).
 *
 * The scope of the request decides what a refusal means: a 403 on the listing is the gateway's
 * credentials (the whole mailbox is unusable), while a 403 or other refusal on one object's GET
 * (Glacier InvalidObjectState, a KMS key the gateway may not use) is that message's own failure.
 */
import type { Logger } from 'pino';
import { StoreError } from '../contract.js';
import { ConnectionsBusyError } from './connection-gate.js';

/** What the SDK attaches to its errors (service exceptions and network errors alike). */
interface SdkFailure {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
}

/** Where a request was aimed: the mailbox as a whole (listing), or one object (GetObject). */
export type S3Scope = 'mailbox' | 'object';

/** The gateway's own key or token is not accepted, whatever it asks for. */
const KEY_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AllAccessDisabled',
]);

/** The tenant's region is not the bucket's (path-style answers 301, SigV4 scopes 400). */
const REGION_ERRORS = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);

/** Gone, or replaced since the listing (If-Match failed). */
const GONE_ERRORS = new Set(['NoSuchKey', 'NotFound', 'PreconditionFailed']);

/** One object the gateway may not read (the others may be fine): RETR and TOP of it fail alone. */
export class UnreadableObjectError extends StoreError {
  constructor(detail: string, cause: unknown) {
    super('PERMANENT', detail, { cause });
  }
}

function sdkFailure(err: unknown): SdkFailure {
  // A StoreError made here keeps the SDK error as its cause.
  const inner = err instanceof StoreError && err.cause !== undefined ? err.cause : err;
  return inner ?? {};
}

/** The gateway's credentials were refused, for a request of this scope. */
export function isCredentialError(err: unknown, scope: S3Scope = 'mailbox'): boolean {
  const e = sdkFailure(err);
  if (KEY_ERRORS.has(e.name ?? '')) return true;
  // On the listing any 403 (AccessDenied from a policy, too) means the gateway may not read the mailbox.
  return scope === 'mailbox' && (e.name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403);
}

function isRegionError(e: SdkFailure): boolean {
  return REGION_ERRORS.has(e.name ?? '') || e.$metadata?.httpStatusCode === 301;
}

/** One line for logs and CommitResult reasons: the S3 error name, HTTP status and attempts. */
export function describeS3Error(err: unknown): string {
  const e = sdkFailure(err);
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const parts = [e.name ?? 'Error', e.code !== undefined && e.code !== e.name ? e.code : undefined, status !== undefined ? `HTTP ${status}` : undefined];
  const head = parts.filter((p) => p !== undefined).join(' ');
  return `${head}${attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : ''}: ${e.message ?? String(err)}`;
}

/**
 * `gone` says what a missing object means here: NOT_FOUND for one message (RETR, TOP), or
 * PERMANENT where the mailbox itself is addressed (a listing of a bucket that does not exist).
 */
export function classifyS3Error(err: unknown, doing: string, scope: S3Scope = 'object'): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as SdkFailure;
  const detail = `s3: ${doing}: ${describeS3Error(err)}`;
  const status = e.$metadata?.httpStatusCode;
  if (err instanceof ConnectionsBusyError) return new StoreError('TEMPORARY', detail, { cause: err });
  if (isCredentialError(err, scope) || isRegionError(e) || e.name === 'NoSuchBucket') return new StoreError('PERMANENT', detail, { cause: err });
  if (GONE_ERRORS.has(e.name ?? '') || status === 404 || status === 412)
    return new StoreError(scope === 'object' ? 'NOT_FOUND' : 'PERMANENT', detail, { cause: err });
  // Other refusals (403 InvalidObjectState or AccessDenied for one object, 400 InvalidRequest,
  // 405, 501 ...) will not get better by retrying.
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return scope === 'object' ? new UnreadableObjectError(detail, err) : new StoreError('PERMANENT', detail, { cause: err });
  }
  // Throttling and 5xx after the retries, timeouts, refused or reset connections, aborts.
  return new StoreError('TEMPORARY', detail, { cause: err });
}

/** What an operator must change, when a failure says so (the same text at login and later). */
export function operatorHint(err: unknown, scope: S3Scope): string | undefined {
  const e = sdkFailure(err);
  if (isCredentialError(err, scope)) return "s3: the bucket refused the gateway's credentials: check the tenant's credentials or the SDK credential chain";
  if (isRegionError(e)) {
    const region = e.$response?.headers?.['x-amz-bucket-region'];
    return `s3: the bucket is not in the tenant's region${region !== undefined ? ` (S3 says it is in ${region})` : ''}: set the tenant's region (and endpoint) to the bucket's`;
  }
  if (sdkFailure(err) instanceof ConnectionsBusyError) return "s3: every connection to the endpoint is in use: raise the tenant's maxSockets";
  return undefined;
}

/** Logs a failure with its operator hint as an error line; true when there was one. */
export function logOperatorProblem(logger: Logger, err: unknown, scope: S3Scope, fields: Record<string, unknown>): boolean {
  const hint = operatorHint(err, scope);
  if (hint === undefined) return false;
  logger.error({ ...fields, err: describeS3Error(err) }, hint);
  return true;
}
