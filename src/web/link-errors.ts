/** What a failed linking step tells the browser: fixed words per kind (the details go to the log only). */
import { LinkError, type LinkFailure } from '../identity/links.js';

export interface Refusal {
  readonly status: number;
  readonly title: string;
  readonly message: string;
}

const REFUSALS: Readonly<Record<Exclude<LinkFailure, 'unknown'>, Refusal>> = {
  'no-pending-link': {
    status: 400,
    title: 'Link not found',
    message:
      'This answer from the provider matches no link started in this browser: it expired (after 10 minutes), was used already, or was started elsewhere. Start again.',
  },
  'consent-failed': {
    status: 400,
    title: 'Consent not given',
    message: 'The provider did not give popgate access to the mailbox (declined, or its answer did not check out). Start again.',
  },
  'provider-refused': {
    status: 502,
    title: 'Provider refuses popgate',
    message: 'The provider refuses popgate itself (its client registration). An operator must check the provider settings; the log says more.',
  },
  'provider-unavailable': { status: 503, title: 'Provider unavailable', message: 'The provider cannot be reached now. Try again later.' },
};

/** The page for a LinkError; `unknown` carries our own message (a name rule, a missing link), which may be shown. */
export function refusalOf(err: LinkError): Refusal {
  if (err.kind === 'unknown') return { status: 400, title: 'Not possible', message: err.message };
  return REFUSALS[err.kind];
}

export function isLinkError(err: unknown): err is LinkError {
  return err instanceof LinkError;
}
