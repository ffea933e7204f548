/**
 * SDK failures -> StoreError. By the time an error reaches here the SDK's retry strategy has
 * already retried what can get better (SlowDown, 5xx, resets, refused connections).
 */
import { StoreError } from '../../src/errors.js';

/** What the SDK attaches to its errors (service exceptions and network errors alike). */
interface SdkFailure {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

/** The gateway's own key or token is not accepted: an operator problem, never the POP3 user's. */
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AllAccessDisabled',
]);

/** Gone, or replaced since the listing (If-Match failed). */
const GONE_ERRORS = new Set(['NoSuchKey', 'NotFound', 'PreconditionFailed']);

export function isCredentialError(err: unknown): boolean {
  const e = (err ?? {}) as SdkFailure;
  return CREDENTIAL_ERRORS.has(e.name ?? '') || e.$metadata?.httpStatusCode === 403;
}

/** One line for logs and CommitResult reasons: the S3 error name, HTTP status and attempts. */
export function describeS3Error(err: unknown): string {
  const e = (err ?? {}) as SdkFailure;
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
export function classifyS3Error(err: unknown, doing: string, gone: 'NOT_FOUND' | 'PERMANENT' = 'NOT_FOUND'): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as SdkFailure;
  const detail = `s3: ${doing}: ${describeS3Error(err)}`;
  const status = e.$metadata?.httpStatusCode;
  if (isCredentialError(err)) return new StoreError('PERMANENT', detail, { cause: err });
  if (e.name === 'NoSuchBucket') return new StoreError('PERMANENT', detail, { cause: err });
  if (GONE_ERRORS.has(e.name ?? '') || status === 404 || status === 412) return new StoreError(gone, detail, { cause: err });
  // Other refusals (400 InvalidRequest, 405, 501 ...) will not get better by retrying.
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new StoreError('PERMANENT', detail, { cause: err });
  }
  // Throttling and 5xx after the retries, timeouts, refused or reset connections, aborts.
  return new StoreError('TEMPORARY', detail, { cause: err });
}
