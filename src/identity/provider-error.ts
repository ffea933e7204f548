/**
 * How a call to an identity provider failed, in the terms the gateway acts on. The message
 * carries the OAuth error code and description (never a token); the kind decides what happens.
 */

export type ProviderFailure =
  /** The grant is dead (RFC 6749 `invalid_grant`: revoked, expired, password changed): the user must consent again. */
  | 'invalid-grant'
  /** The provider refuses the gateway itself (`invalid_client`, `unauthorized_client`, a scope): an operator must act. */
  | 'refused'
  /** Down, slow, 5xx, throttled or an answer that is not OAuth: try again later. */
  | 'unavailable'
  /** The consent came back wrong (denied, a state or nonce that does not match, no address claim). */
  | 'bad-callback';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly kind: ProviderFailure,
    message: string,
    /** The OAuth `error` code, when the provider gave one. */
    readonly oauthError?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Errors of openid-client / oauth4webapi, by the fields they carry (their classes are not loaded here). */
interface OAuthLibraryFailure {
  readonly name?: string;
  readonly code?: string;
  readonly error?: unknown;
  readonly error_description?: unknown;
  readonly status?: unknown;
  readonly message?: string;
  readonly cause?: unknown;
}

const OPERATOR_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_request']);

/**
 * A library failure of `doing` (e.g. `refreshing the grant`) at provider `name` as a ProviderError.
 * Only invalid_grant is the user's; refusals of the client are the operator's; anything else
 * (network errors, timeouts, 5xx, non-OAuth answers) is an outage.
 */
export function classifyProviderError(err: unknown, name: string, doing: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as OAuthLibraryFailure;
  const code = typeof e.error === 'string' ? e.error : undefined;
  const status = typeof e.status === 'number' ? e.status : statusOf(e.cause);
  const description = typeof e.error_description === 'string' ? `: ${e.error_description}` : '';
  const what = code !== undefined ? `${code}${description}` : `${e.code ?? e.name ?? 'error'}: ${e.message ?? String(err)}${causeText(e.cause)}`;
  const message = `identity provider ${name}: ${doing}: ${what}${status !== undefined ? ` (HTTP ${status})` : ''}`;
  if (e.name === 'AuthorizationResponseError') return new ProviderError('bad-callback', message, code, { cause: err });
  if (code === 'invalid_grant') return new ProviderError('invalid-grant', message, code, { cause: err });
  if (status !== undefined && (status >= 500 || status === 429)) return new ProviderError('unavailable', message, code, { cause: err });
  if (code !== undefined && OPERATOR_ERRORS.has(code)) return new ProviderError('refused', message, code, { cause: err });
  if (e.name === 'WWWAuthenticateChallengeError') return new ProviderError('refused', message, code, { cause: err });
  return new ProviderError('unavailable', message, code, { cause: err });
}

function statusOf(cause: unknown): number | undefined {
  const status = (cause as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** `fetch failed` says little; its cause (ECONNREFUSED, a timeout) says what happened. */
function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return '';
  const code = (cause as { code?: unknown }).code;
  return ` (${typeof code === 'string' ? `${code} ` : ''}${cause.message})`;
}
