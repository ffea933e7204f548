/** The config file's shape: every key, its default and its rule. */
import { z } from 'zod';
import type { AdapterConfigSchema } from '../../adapters/contract.js';
import { ADAPTERS, adapterFor } from '../../adapters/index.js';
import { identitySchema, type IdentityConfig } from '../identity/config.js';
import { parseCidr } from '../proxy-protocol/trusted-sources.js';

const port = z.number().int().min(0).max(65_535);

const cidr = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

/**
 * PROXY protocol v1/v2 (HAProxy `send-proxy`, `send-proxy-v2`, cloud load balancers): every
 * connection must start with a header, and only peers in `trusted` may send one; anyone else,
 * a malformed header or none within `timeoutMs` is disconnected. The header's client address
 * is the session's (logs, per-address limits, login penalties, the backend's IMAP ID).
 */
export const proxyProtocolSchema = z.strictObject({
  trusted: z.array(cidr).min(1),
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
});

export const listenerSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port,
  tls: z.enum(['none', 'starttls', 'implicit']).default('none'),
  /** Allow TLS 1.0 and 1.1 for legacy devices on this listener only. */
  legacyTls: z.boolean().default(false),
  proxyProtocol: proxyProtocolSchema.optional(),
});

const saslMechanism = z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'OAUTHBEARER']);
const expire = z.union([z.literal('never'), z.number().int().min(0)]);
const tlsFiles = { cert: z.string().min(1), key: z.string().min(1) };

/** Settings every tenant has, whatever its adapter: how logins route to it, and its own limits. */
export const tenantCommonFields = {
  /** Domains whose logins route here: `example.com`, `*.example.com`, IDNs in either form. */
  domains: z.array(z.string().min(1)).default([]),
  /** Which separators split `local<sep>domain` for this tenant's domains (`+` is off by default). */
  separators: z
    .array(z.enum(['@', '%', '+']))
    .min(1)
    .default(['@']),
  /** What the backend sees: `local`, `full` (`local@domain`) or a template with {local} {domain} {login}. */
  userName: z.string().min(1).default('local'),
  /** SASL mechanisms allowed for this tenant's users (default: the global `auth.mechanisms`). */
  mechanisms: z.array(saslMechanism).optional(),
  /** Concurrent logged-in sessions for this tenant. */
  maxConnections: z.number().int().min(1).optional(),
  /** Logins being checked or opened for this tenant at once (default: `limits.maxLoginsInFlightPerTenant`). */
  maxLoginsInFlight: z.number().int().min(1).optional(),
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
  /**
   * The backend treats `alice`, `ALICE` and `Alice` as one mailbox, so the maildrop lock and
   * LOGIN-DELAY must too. Default: true for IMAP (Dovecot and most servers fold user names),
   * false for Maildir and S3 (paths and keys are case-sensitive).
   */
  caseInsensitiveUsers: z.boolean().optional(),
  /** Gmail-style `recent:user` logins: list the last `days` of mail whatever was downloaded before. */
  recent: z.strictObject({ enabled: z.boolean().default(false), days: z.number().int().min(1).max(3650).default(30) }).default({ enabled: false, days: 30 }),
};

/** An adapter's own settings plus the settings every tenant has. */
type TenantSchemaOf<S extends AdapterConfigSchema> = z.ZodObject<S['shape'] & typeof tenantCommonFields, z.core.$strict>;

/** One tenant schema per registered adapter, in the registry's order (a tuple, so the union stays exact). */
type TenantSchemas<T extends readonly { readonly config: AdapterConfigSchema }[]> = {
  -readonly [K in keyof T]: T[K] extends { readonly config: infer S extends AdapterConfigSchema } ? TenantSchemaOf<S> : never;
};

function withCommonFields<S extends AdapterConfigSchema>(schema: S): TenantSchemaOf<S> {
  // An adapter key named like a common one would silently replace its rule (or, with a
  // refinement, make zod throw here): say which, at start-up of any build that has it.
  const clash = Object.keys(tenantCommonFields).filter((key) => key in schema.shape);
  if (clash.length > 0) throw new Error(`adapter ${String(schema.shape.adapter.value)}: settings ${clash.join(', ')} are every tenant's; rename them`);
  // `extend` keeps the adapter's cross-field refinements.
  return schema.extend(tenantCommonFields);
}

/**
 * A tenant: the adapter its `adapter:` names, from the registry (adapters/index.ts). Inferred,
 * so TenantConfig is exactly the union of the registered adapters' settings.
 */
export const tenantSchema = z.discriminatedUnion('adapter', ADAPTERS.map((a) => withCommonFields(a.config)) as TenantSchemas<typeof ADAPTERS>);

/** Login penalties across connections (see src/auth/login-penalties.ts). */
export const authPenaltySchema = z.strictObject({
  /** What one recent failure costs; each further one doubles it. 0: off. */
  baseMs: z.number().int().min(0).max(60_000).default(1000),
  maxMs: z.number().int().min(0).max(300_000).default(15_000),
  /** Failures are forgiven gradually: their count halves every this many seconds. */
  halfLifeSeconds: z.number().min(1).max(86_400).default(300),
});

export const limitsSchema = z.strictObject({
  /** RFC 1939 asks for at least 10 minutes; lower values are allowed (with a warning) for tests. */
  idleTimeoutSeconds: z.number().int().min(1).default(600),
  maxConnections: z.number().int().min(1).default(1000),
  maxConnectionsPerIp: z.number().int().min(1).default(50),
  authFailureDelayMs: z.number().int().min(0).max(60_000).default(2000),
  /**
   * Logins being checked (password hash) or opened (the backend's login and listing) at once in
   * this process, and per tenant; a login that cannot start within `loginQueueWaitMs` is answered
   * -ERR [SYS/TEMP] at once instead of queueing (src/locks/login-shedder.ts).
   */
  maxLoginsInFlight: z.number().int().min(1).default(64),
  maxLoginsInFlightPerTenant: z.number().int().min(1).default(32),
  loginQueueWaitMs: z.number().int().min(0).max(60_000).default(3000),
  /** Failed logins cost later logins from the same address and for the same name, across connections. */
  authPenalty: authPenaltySchema.default(authPenaltySchema.parse({})),
  /** Unknown commands, syntax errors and failed logins before the connection is closed. */
  maxBadCommands: z.number().int().min(1).default(10),
  /**
   * From connect to a completed login, whatever the client sends meanwhile: a connection that
   * never logs in gives its slot back after this long.
   */
  loginTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  /** Implicit TLS and STLS: the handshake must be done within this long. */
  tlsHandshakeTimeoutSeconds: z.number().int().min(1).max(300).default(15),
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

const REDIS_URL_FORM = 'redis://[[user]:password@]host[:port][/db], or rediss:// for TLS';

/** Why a Redis URL cannot be used, or undefined. Never repeats the URL: it may hold a password. */
function redisUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL; expected ${REDIS_URL_FORM}`;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `must start with redis:// or rediss:// (${REDIS_URL_FORM})`;
  if (url.hostname === '') return `names no host (${REDIS_URL_FORM})`;
  if (!/^\/?\d{0,5}$/.test(url.pathname)) return `the path must be a database number (${REDIS_URL_FORM})`;
  if (url.search !== '' || url.hash !== '') return `takes no query or fragment (${REDIS_URL_FORM})`;
  return undefined;
}

/**
 * The gateway's Redis: where state shared by its instances lives: the maildrop locks, LOGIN-DELAY
 * times and tenant session counts (unless `sessionState: process`), and the exact message sizes
 * of the Gmail, REST and S3 tenants (instead of their `stateDir` files).
 */
export const redisSchema = z
  .strictObject({
    /** Never logged, never repeated in an error: it may hold a password. */
    url: z.string().superRefine((u, ctx) => {
      const problem = redisUrlProblem(u);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** Starts every key popgate writes, so one Redis can serve several gateways or applications. */
    keyPrefix: z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/, '1-64 printable ASCII characters, no spaces')
      .default('popgate:'),
    /** With a rediss:// URL: the CA that signed the server's certificate (PEM), if not a public one. */
    tls: z.strictObject({ ca: z.string().min(1).optional() }).optional(),
    /**
     * Where the maildrop locks, LOGIN-DELAY times and tenant session counts live: `redis`, shared
     * by every process on it (a login needs Redis then), or `process`, this process only (one
     * gateway process; Redis then only holds sizes and its outages cost no login).
     */
    sessionState: z.enum(['redis', 'process']).default('redis'),
    /**
     * How long a maildrop lock (and a tenant session count) outlives a process that died
     * without releasing it; renewed every third of it while the session lives.
     */
    lockTtlSeconds: z.number().int().min(2).max(3600).default(30),
  })
  .superRefine((r, ctx) => {
    if (r.tls !== undefined && !r.url.startsWith('rediss://')) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'needs a rediss:// url (TLS)' });
  });

export const configSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1),
    /** The default certificate (TLS listeners need it); tenants may add their own, chosen by SNI. */
    tls: z.strictObject(tlsFiles).optional(),
    tenants: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'tenant names use A-Z a-z 0-9 _ . -'), tenantSchema)
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
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
    redis: redisSchema.optional(),
    /** OAuth identity providers popgate is a client of, and the grants store (README "Identity"). */
    identity: identitySchema.optional(),
    /**
     * Gateway processes sharing the listeners (Node's cluster): a number, or `auto` (one per
     * CPU). Above 1 (and with `auto`) they must share the session state in Redis.
     */
    workers: z.union([z.number().int().min(1).max(256), z.literal('auto')]).default(1),
  })
  .superRefine((cfg, ctx) => {
    const names = Object.keys(cfg.tenants);
    if (cfg.defaultTenant !== undefined && !names.includes(cfg.defaultTenant)) {
      ctx.addIssue({ code: 'custom', path: ['defaultTenant'], message: `names no tenant (tenants: ${names.join(', ')})` });
    }
    for (const [name, tenant] of Object.entries(cfg.tenants)) tenantIdentityIssues(name, tenant, cfg.identity, ctx);
    if (cfg.workers !== 1 && cfg.redis?.sessionState !== 'redis') {
      const why = cfg.redis === undefined ? 'set redis.url' : "set redis.sessionState to 'redis' (it is 'process')";
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message: `${cfg.workers} runs several processes, which must share the maildrop locks, LOGIN-DELAY times and tenant session counts in Redis: ${why}, or use workers: 1`,
      });
    }
    cfg.listeners.forEach((l, i) => {
      if (l.tls !== 'none' && cfg.tls === undefined) {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: `'${l.tls}' needs the top-level tls: {cert, key}` });
      }
    });
  });

/** A tenant whose auth names an identity provider needs that provider (and, for grants, a grants store). */
function tenantIdentityIssues(name: string, tenant: z.output<typeof tenantSchema>, identity: IdentityConfig | undefined, ctx: z.core.$RefinementCtx): void {
  const auth = adapterFor(tenant.adapter).auth(tenant);
  if (auth.kind !== 'grant' && auth.kind !== 'app-only') return;
  const at = (message: string): void => ctx.addIssue({ code: 'custom', path: ['tenants', name, 'provider'], message });
  const provider = identity?.providers[auth.provider];
  const known = Object.keys(identity?.providers ?? {});
  if (provider === undefined) return at(`names no identity provider (identity.providers: ${known.length > 0 ? known.join(', ') : 'none'})`);
  if (auth.kind === 'grant' && identity?.grants === undefined) {
    ctx.addIssue({ code: 'custom', path: ['identity', 'grants'], message: `required by tenant ${name} (auth: grant): where linked grants are kept` });
  }
  if (auth.kind === 'app-only' && (provider.kind === 'google' || provider.appOnly === undefined)) {
    at(`identity provider ${auth.provider} has no appOnly settings (app-only access: microsoft or oidc with appOnly)`);
  }
}

export type Config = z.infer<typeof configSchema>;
export type ListenerConfig = z.infer<typeof listenerSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type Limits = z.infer<typeof limitsSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
