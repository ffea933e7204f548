/**
 * The Gmail tenant's own settings (the gateway adds the settings every tenant has). Rules that
 * need no I/O are refinements here, so they are reported with every other config problem.
 */
import { z } from 'zod';
import type { TenantSettings } from '../contract.js';

const gmailTenantFields = {
  adapter: z.literal('gmail'),
  /**
   * `passthrough`: POP3 clients log in with XOAUTH2/OAUTHBEARER and their Google access token is
   * used as is. `serviceAccount`: devices log in with a gateway password (users file) and the
   * gateway acts as the user through a Workspace service account with domain-wide delegation.
   * `grant`: devices log in with a device password; the gateway uses the access token of the
   * account's linked grant at `provider` (renewed during the session when it expires).
   */
  auth: z.enum(['passthrough', 'serviceAccount', 'grant']),
  /** The identity provider (a name under `identity.providers`), for `auth: grant`. */
  provider: z.string().min(1).optional(),
  /** The service account's JSON key file (serviceAccount). */
  serviceAccountKey: z.string().min(1).optional(),
  /** Users file (serviceAccount: devices log in with a gateway password). */
  users: z.string().min(1).optional(),
  /** The mailbox is the messages with this label (INBOX unless `query` is given). */
  label: z.string().min(1).optional(),
  /** Or a Gmail search (`in:inbox is:unread`); TRASH and SPAM are never listed. */
  query: z.string().min(1).optional(),
  /**
   * At QUIT: `trash` (recoverable for 30 days), `archive` (remove INBOX), `markRead` (remove
   * UNREAD: pair it with `query: "is:unread ..."`, or the messages are listed again), `delete`
   * (permanent; needs `fullMailScope`), or `keep`.
   */
  deleteMode: z.enum(['trash', 'archive', 'markRead', 'delete', 'keep']).default('trash'),
  /** Ask for https://mail.google.com/ (required by `delete`); otherwise gmail.modify or gmail.readonly. */
  fullMailScope: z.boolean().default(false),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://gmail.googleapis.com'),
  tokenUrl: z.url({ protocol: /^https?$/ }).default('https://oauth2.googleapis.com/token'),
  /** Connections to Google, shared by the tenant's sessions (a RETR holds one while its client reads). */
  maxSockets: z.number().int().min(1).max(65_536).default(64),
  /** One request's wait for the response headers, and for each body chunk after them. */
  requestTimeoutMs: z.number().int().min(100).default(30_000),
  /** Requests one user's sessions have in flight (Google limits concurrent requests per user). */
  maxInFlightPerUser: z.number().int().min(1).max(100).default(8),
  /** Quota units a user may spend per second (Gmail: 250, a moving average). */
  unitsPerSecond: z.number().int().min(1).default(250),
  /** Attempts per request for throttling, 5xx answers and network errors. */
  maxAttempts: z.number().int().min(1).max(10).default(5),
  /**
   * Where exact message sizes are kept across restarts (one folder per tenant) when the gateway
   * has no `redis`; none: memory only.
   */
  stateDir: z.string().min(1).optional(),
};

export const gmailTenantSchema = z.strictObject(gmailTenantFields).superRefine((c, ctx) => {
  const issue = (path: string, message: string): void => ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.auth === 'serviceAccount') {
    if (c.serviceAccountKey === undefined) issue('serviceAccountKey', 'required with auth: serviceAccount');
    if (c.users === undefined) issue('users', 'required with auth: serviceAccount (devices log in with a gateway password)');
  } else {
    if (c.serviceAccountKey !== undefined) issue('serviceAccountKey', 'only with auth: serviceAccount');
    if (c.users !== undefined)
      issue('users', `only with auth: serviceAccount (${c.auth} logins are checked ${c.auth === 'grant' ? 'against device passwords' : 'by Google'})`);
  }
  if (c.auth === 'grant' && c.provider === undefined) issue('provider', 'required with auth: grant');
  if (c.auth !== 'grant' && c.provider !== undefined) issue('provider', 'only with auth: grant');
  if (c.label !== undefined && c.query !== undefined) issue('query', 'give label or query, not both');
  if (c.deleteMode === 'delete' && !c.fullMailScope) {
    issue('deleteMode', 'delete removes mail permanently and needs the full mail scope: set fullMailScope: true (or use trash)');
  }
});

export type GmailTenantConfig = z.output<typeof gmailTenantSchema> & TenantSettings;

/** The OAuth scope a tenant needs for its delete mode. */
export function scopeFor(c: Pick<GmailTenantConfig, 'deleteMode' | 'fullMailScope'>): string {
  if (c.fullMailScope) return 'https://mail.google.com/';
  return c.deleteMode === 'keep' ? 'https://www.googleapis.com/auth/gmail.readonly' : 'https://www.googleapis.com/auth/gmail.modify';
}
