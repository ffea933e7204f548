/**
 * The IMAP tenant's own settings (the gateway adds the settings every tenant has). Kept here so
 * the adapter's options sit next to the code that reads them.
 */
import { z } from 'zod';

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

export const imapTenantSchema = z
  .strictObject({
    adapter: z.literal('imap'),
    host: z.string().min(1),
    /** Default: 993 with implicit TLS, 143 otherwise. */
    port: z.number().int().min(0).max(65_535).optional(),
    /** `implicit` (IMAPS), `starttls` (required, never skipped), or `none` (loopback hosts only). */
    tls: z.enum(['implicit', 'starttls', 'none']).default('implicit'),
    /** PEM file of the CA that signed the IMAP server's certificate (verification is always on). */
    ca: z.string().min(1).optional(),
    /** Name to verify the certificate against, when `host` is an address. */
    servername: z.string().min(1).optional(),
    folder: z.string().min(1).default('INBOX'),
    /**
     * How the POP3 login reaches IMAP. `passthrough`: the POP3 user name and password (or an
     * OAuth bearer token from AUTH XOAUTH2/OAUTHBEARER) log in to IMAP; popgate stores no secret.
     * `oauth`: only bearer tokens are accepted and passed on.
     * `mapped`: the login is checked against the gateway's `users` file, and the account's
     * stored `backend` credentials log in to IMAP.
     * `grant`: devices log in with a device password; the gateway logs in to IMAP as the linked
     * mailbox with an access token from the account's grant at `provider` (XOAUTH2/OAUTHBEARER).
     * `appOnly`: the login is checked against `users`; the gateway logs in as the login's mailbox
     * with an app-only token of `provider` (Exchange Online client credentials).
     */
    auth: z.enum(['passthrough', 'oauth', 'mapped', 'grant', 'appOnly']).default('passthrough'),
    /** Users file, for `auth: mapped` and `auth: appOnly`. */
    users: z.string().min(1).optional(),
    /** The identity provider (a name under `identity.providers`), for `auth: grant` and `auth: appOnly`. */
    provider: z.string().min(1).optional(),
    /** At QUIT: expunge, move to a folder (`move:Archive`), only set \Deleted, or keep everything. */
    deleteMode: z
      .union([z.enum(['expunge', 'flag', 'keep']), z.string().regex(/^move:.+$/, 'must be expunge, flag, keep or move:<folder>')])
      .default('expunge'),
    /** Set \Seen on retrieved messages (the folder is then opened read-write). */
    markSeen: z.boolean().default(false),
    /**
     * `auto`: EMAILID (RFC 8474) or X-GM-MSGID when the server has them, else `uid`;
     * `uid`: `<UIDVALIDITY>.<UID>`; `dovecot`: Dovecot's default pop3_uidl_format `%08Xu%08Xv`.
     */
    uidlFormat: z.enum(['auto', 'uid', 'dovecot']).default('auto'),
    /**
     * Tell the server who the POP3 client is, with IMAP ID (RFC 2971) `x-originating-ip`,
     * `x-originating-port` and `x-session-ext-id` before login: Dovecot, for a gateway in its
     * `login_trusted_networks`, then logs and rate-limits the client's address instead of the
     * gateway's. Off: the server learns nothing about the client.
     */
    forwardClientAddress: z.boolean().default(true),
    connectTimeoutMs: z.number().int().min(100).default(10_000),
    /** A backend command that stays silent this long fails the session with [SYS/TEMP]. */
    commandTimeoutMs: z.number().int().min(100).default(60_000),
    /**
     * Keep an account's logged-in connection `seconds` after its session ends, for its next
     * session: reused only by a login with the same credentials (compared as keyed hashes,
     * never stored), after the folder is opened again (an unchanged mailbox then costs one
     * round trip). The backend does not check a reused login: a changed password or a revoked
     * token takes effect once the kept connection expires. At most `maxIdle` are kept per
     * tenant, the one idle longest closed first. `seconds: 0` (the default): off.
     */
    connectionReuse: z
      .strictObject({ seconds: z.number().int().min(0).max(3600).default(0), maxIdle: z.number().int().min(1).max(100_000).default(100) })
      .default({ seconds: 0, maxIdle: 100 }),
    /**
     * `tls: none` to a host that is not loopback: only on a network no one else can read (a
     * container network with the backend beside popgate). Off by default: passwords cross it in clear.
     */
    plaintextBackendNetwork: z.boolean().default(false),
  })
  .superRefine((t, ctx) => {
    if ((t.auth === 'mapped' || t.auth === 'appOnly') && t.users === undefined) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: `required with auth: ${t.auth}` });
    }
    if (t.auth === 'grant' && t.users !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: 'not used with auth: grant (devices log in with device passwords from the grants store)' });
    }
    const usesProvider = t.auth === 'grant' || t.auth === 'appOnly';
    if (usesProvider && t.provider === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: `required with auth: ${t.auth}` });
    if (!usesProvider && t.provider !== undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'only with auth: grant or appOnly' });
    if (t.tls === 'none' && !LOOPBACK_HOST.test(t.host) && !t.plaintextBackendNetwork) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: "'none' sends passwords in clear: only allowed for a loopback host, or with plaintextBackendNetwork: true on a private network",
      });
    }
  });

export type ImapTenantConfig = z.output<typeof imapTenantSchema>;
