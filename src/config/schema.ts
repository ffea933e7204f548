/** The config file's shape: every key, its default and its rule. */
import { z } from 'zod';
import { memoryTenantFields } from '../../adapters/memory/config.js';
import { s3TenantFields } from '../../adapters/s3/config.js';

const port = z.number().int().min(0).max(65_535);

export const listenerSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port,
  tls: z.enum(['none', 'starttls', 'implicit']).default('none'),
  /** Allow TLS 1.0 and 1.1 for legacy devices on this listener only. */
  legacyTls: z.boolean().default(false),
});

const saslMechanism = z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'OAUTHBEARER']);
const expire = z.union([z.literal('never'), z.number().int().min(0)]);
const tlsFiles = { cert: z.string().min(1), key: z.string().min(1) };

/** Settings every tenant has, whatever its adapter: how logins route to it, and its own limits. */
export const tenantCommonFields = {
  /** Domains whose logins route here: `example.com`, `*.example.com`, IDNs in either form. */
  domains: z.array(z.string().min(1)).default([]),
  /** Which separators split `local<sep>domain` for this tenant's domains (`+` is off by default). */
  separators: z.array(z.enum(['@', '%', '+'])).min(1).default(['@']),
  /** What the backend sees: `local`, `full` (`local@domain`) or a template with {local} {domain} {login}. */
  userName: z.string().min(1).default('local'),
  /** SASL mechanisms allowed for this tenant's users (default: the global `auth.mechanisms`). */
  mechanisms: z.array(saslMechanism).optional(),
  /** Concurrent logged-in sessions for this tenant. */
  maxConnections: z.number().int().min(1).optional(),
  /** LOGIN-DELAY for this tenant's maildrops (default: the global `capabilities.loginDelaySeconds`). */
  loginDelaySeconds: z.number().int().min(0).optional(),
  /** EXPIRE shown to this tenant's users (default: the global `capabilities.expire`). */
  expire: expire.optional(),
  /**
   * The certificate implicit-TLS and STLS clients get when their SNI names this tenant;
   * `serverNames` default to the certificate's DNS names. An SNI name also picks the tenant for
   * logins without a host part.
   */
  certificate: z.strictObject({ ...tlsFiles, serverNames: z.array(z.string().min(1)).optional() }).optional(),
  /** Gmail-style `recent:user` logins: list the last `days` of mail whatever was downloaded before. */
  recent: z.strictObject({ enabled: z.boolean().default(false), days: z.number().int().min(1).max(3650).default(30) }).default({ enabled: false, days: 30 }),
};

const maildirTenantSchema = z.strictObject({
  adapter: z.literal('maildir'),
  /** Path template of each user's Maildir; `{user}` is the backend user name. */
  path: z.string().min(1).refine((p) => p.includes('{user}'), 'must contain {user}'),
  /** Users file (gateway-managed accounts). */
  users: z.string().min(1),
  /** At QUIT: unlink, keep everything, or move to a Maildir++ folder (`move:.Trash`). */
  deleteMode: z
    .union([z.enum(['expunge', 'keep']), z.string().regex(/^move:\.[^/\\]+$/, 'must be expunge, keep or move:.<Maildir++ folder>, e.g. move:.Trash')])
    .default('expunge'),
  ...tenantCommonFields,
});

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

const imapTenantSchema = z
  .strictObject({
    adapter: z.literal('imap'),
    host: z.string().min(1),
    /** Default: 993 with implicit TLS, 143 otherwise. */
    port: port.optional(),
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
     */
    auth: z.enum(['passthrough', 'oauth', 'mapped']).default('passthrough'),
    /** Users file, for `auth: mapped`. */
    users: z.string().min(1).optional(),
    /** At QUIT: expunge, move to a folder (`move:Archive`), only set \Deleted, or keep everything. */
    deleteMode: z
      .union([z.enum(['expunge', 'flag', 'keep']), z.string().regex(/^move:.+$/, "must be expunge, flag, keep or move:<folder>")])
      .default('expunge'),
    /** Set \Seen on retrieved messages (the folder is then opened read-write). */
    markSeen: z.boolean().default(false),
    /**
     * `auto`: EMAILID (RFC 8474) or X-GM-MSGID when the server has them, else `uid`;
     * `uid`: `<UIDVALIDITY>.<UID>`; `dovecot`: Dovecot's default pop3_uidl_format `%08Xu%08Xv`.
     */
    uidlFormat: z.enum(['auto', 'uid', 'dovecot']).default('auto'),
    connectTimeoutMs: z.number().int().min(100).default(10_000),
    /** A backend command that stays silent this long fails the session with [SYS/TEMP]. */
    commandTimeoutMs: z.number().int().min(100).default(60_000),
    ...tenantCommonFields,
  })
  .superRefine((t, ctx) => {
    if (t.auth === 'mapped' && t.users === undefined) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: "required with auth: mapped" });
    }
    if (t.tls === 'none' && !LOOPBACK_HOST.test(t.host)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: "'none' sends passwords in clear: only allowed for a loopback host" });
    }
  });

/** An S3 bucket (AWS, MinIO, R2, Ceph) whose objects are raw messages; fields in adapters/s3/config.ts. */
const s3TenantSchema = z.strictObject({ adapter: z.literal('s3'), ...s3TenantFields, ...tenantCommonFields });

/** Messages held in memory, from the config or a folder of .eml files; fields in adapters/memory/config.ts. */
const memoryTenantSchema = z.strictObject({ adapter: z.literal('memory'), ...memoryTenantFields, ...tenantCommonFields });

export const tenantSchema = z.discriminatedUnion('adapter', [maildirTenantSchema, imapTenantSchema, s3TenantSchema, memoryTenantSchema]);

export const limitsSchema = z.strictObject({
  /** RFC 1939 asks for at least 10 minutes; lower values are allowed (with a warning) for tests. */
  idleTimeoutSeconds: z.number().int().min(1).default(600),
  maxConnections: z.number().int().min(1).default(1000),
  maxConnectionsPerIp: z.number().int().min(1).default(50),
  authFailureDelayMs: z.number().int().min(0).max(60_000).default(2000),
  /** Unknown commands, syntax errors and failed logins before the connection is closed. */
  maxBadCommands: z.number().int().min(1).default(10),
  /** On SIGTERM: how long running sessions may go on before they are closed. */
  shutdownGraceSeconds: z.number().min(0).default(30),
});

export const capabilitiesSchema = z.strictObject({
  /** CAPA LOGIN-DELAY: minimum seconds between logins to one maildrop; enforced. 0 = off. */
  loginDelaySeconds: z.number().int().min(0).default(0),
  /** CAPA EXPIRE: the retention policy the operator's backend applies (days or `never`). */
  expire: expire.optional(),
});

export const authSchema = z.strictObject({
  /**
   * SASL mechanisms, each offered only where it can succeed: PLAIN/LOGIN under the plaintext
   * policy, CRAM-MD5 when a user has a shared secret, XOAUTH2/OAUTHBEARER when a tenant passes
   * bearer tokens on to its backend.
   */
  mechanisms: z.array(saslMechanism).default(['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER']),
  /** APOP needs a stored shared secret per user; see README "Shared secrets". */
  apop: z.boolean().default(false),
});

export const configSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1),
    /** The default certificate (TLS listeners need it); tenants may add their own, chosen by SNI. */
    tls: z.strictObject(tlsFiles).optional(),
    tenants: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'tenant names use A-Z a-z 0-9 _ . -'), tenantSchema)
      .refine((t) => Object.keys(t).length > 0, 'at least one tenant is required'),
    defaultTenant: z.string().optional(),
    limits: limitsSchema.default(limitsSchema.parse({})),
    capabilities: capabilitiesSchema.default(capabilitiesSchema.parse({})),
    auth: authSchema.default(authSchema.parse({})),
    allowPlaintextAuth: z.enum(['never', 'tls-only', 'always']).default('tls-only'),
    /** With `tls-only`: also allow plaintext logins from 127.0.0.0/8 and ::1. */
    allowPlaintextAuthOnLoopback: z.boolean().default(false),
    /** Dovecot-style client workarounds; `outlook-no-nuls` turns NUL octets into 0x80. */
    workarounds: z.array(z.enum(['outlook-no-nuls'])).default([]),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .default({ level: 'info' }),
  })
  .superRefine((cfg, ctx) => {
    const names = Object.keys(cfg.tenants);
    if (cfg.defaultTenant !== undefined && !names.includes(cfg.defaultTenant)) {
      ctx.addIssue({ code: 'custom', path: ['defaultTenant'], message: `names no tenant (tenants: ${names.join(', ')})` });
    }
    cfg.listeners.forEach((l, i) => {
      if (l.tls !== 'none' && cfg.tls === undefined) {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: `'${l.tls}' needs the top-level tls: {cert, key}` });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ListenerConfig = z.infer<typeof listenerSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type MaildirTenantConfig = z.infer<typeof maildirTenantSchema>;
export type ImapTenantConfig = z.infer<typeof imapTenantSchema>;
export type S3TenantConfig = z.infer<typeof s3TenantSchema>;
export type Limits = z.infer<typeof limitsSchema>;
