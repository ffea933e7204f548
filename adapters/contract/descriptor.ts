/**
 * How an adapter plugs into the gateway: one descriptor per backend, listed once in
 * adapters/index.ts. From the descriptors alone the gateway validates the config file, resolves
 * its paths, decides who checks passwords, explains routes and, only when a tenant needs it,
 * creates the store. Everything here is data or a function over the adapter's own settings, so
 * the gateway never switches on adapter names and a new adapter touches no file in src/.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { MailStore } from './mailbox.js';
import type { SizeBookFactory } from './size-book.js';
import type { TokenSource } from './token-source.js';

/** What the gateway hands a store besides its settings. */
export interface AdapterDeps {
  /** Already bound to the tenant: the store's lines carry the tenant name without adding it. */
  readonly logger: Logger;
  /** The POP3 idle timeout: backend connections must stay up at least this long while quiet. */
  readonly sessionIdleMs: number;
  /**
   * Where exact sizes outlive the process and are shared by the gateway's instances (Redis):
   * given only when the gateway has such a place. A store that gets it uses it instead of its
   * own file; either way it keeps an in-memory cache in front.
   */
  readonly sizeBook?: SizeBookFactory;
  /**
   * Tokens the gateway mints for this tenant, present when its auth is `grant` or `app-only`
   * (an identity provider of the gateway's config). The gateway mints one at login and passes
   * it in BackendLogin.accessToken; a store that makes requests during the session asks this
   * source before each one, so a token that expires mid-session is renewed.
   */
  readonly tokens?: TokenSource;
}

/**
 * The settings every tenant has that a store may need to read. The gateway owns their schema
 * (they are the same for every backend); a store gets them next to its own settings.
 */
export interface TenantSettings {
  /**
   * The tenant's `userName` rule: `local`, `full` or a template with {local} {domain} {login}.
   * It tells a store how many path segments a backend user name can have (S3 prefixes).
   */
  readonly userName: string;
}

/**
 * Who checks a login's password, as data: the gateway turns it into its own auth mode (and
 * opens the users file), so an adapter never sees the gateway's password code.
 */
export type AdapterAuth =
  /**
   * The gateway checks the login against the users file at `path` (a backend without per-user
   * passwords, such as a Maildir or a bucket). `mapped`: after the check, the account's stored
   * backend credentials open the mailbox, instead of no credentials at all.
   */
  | { readonly kind: 'users-file'; readonly path: string; readonly mapped: boolean }
  /**
   * The backend checks the POP3 credentials itself (an IMAP login): `passwords` says whether
   * passwords are passed on, `tokens` whether OAuth bearer tokens are (XOAUTH2, OAUTHBEARER).
   */
  | { readonly kind: 'passthrough'; readonly passwords: boolean; readonly tokens: boolean }
  /**
   * Devices log in with a device password the gateway keeps for each linked account (its grants
   * store); the gateway then mints an access token from the account's OAuth grant at the named
   * identity provider. BackendLogin.user is the linked mailbox address, `account` the gateway
   * account, `accessToken` the token.
   */
  | { readonly kind: 'grant'; readonly provider: string }
  /**
   * The gateway checks the login against the users file at `path`, then mints an app-only token
   * (client-credentials grant at the named provider) that opens any mailbox the application
   * was granted; BackendLogin.user names the mailbox.
   */
  | { readonly kind: 'app-only'; readonly provider: string; readonly path: string };

/**
 * The adapter's own settings as a strict zod object whose `adapter` key is the literal `kind`:
 * that key is what the gateway's tenant union is discriminated on. Cross-field rules go in a
 * `.superRefine()` on it, so they are reported with every other config problem; the gateway
 * extends the object with the settings every tenant has (their keys must not clash with these).
 */
export type AdapterConfigSchema<Kind extends string = string> = z.ZodObject<{ adapter: z.ZodLiteral<Kind> } & z.core.$ZodShape, z.core.$strict>;

/** Keys of the settings whose values are file paths (optional ones included). */
export type PathKey<C> = { [K in keyof C]-?: C[K] extends string | undefined ? K : never }[keyof C] & string;

export interface AdapterDescriptor<Kind extends string = string, Schema extends AdapterConfigSchema<Kind> = AdapterConfigSchema<Kind>> {
  /** The config's `adapter:` value; equal to the literal in `config`. */
  readonly kind: Kind;
  /**
   * Validates the adapter's settings and fills their defaults. Importing it must stay cheap
   * (zod and plain helpers): the config is read by processes that never open a mailbox
   * (`popgate check`, `popgate route`), and by the POP3 core's tests.
   */
  readonly config: Schema;
  /**
   * Settings that name files (users file, CA, a Maildir path template): the gateway resolves
   * them against the config file's folder, as it does its own, so relative paths mean the same
   * wherever popgate is started.
   */
  readonly pathKeys: readonly PathKey<z.output<Schema>>[];
  /** Paths nested deeper than a top-level setting (a folder per mailbox), resolved with `abs`. */
  resolveNestedPaths?(config: z.output<Schema>, abs: (path: string) => string): z.output<Schema>;
  auth(config: z.output<Schema>): AdapterAuth;
  /**
   * Where a backend user's mail lives, in the adapter's own terms, for `popgate route` (which
   * contacts nothing). Without it the route shows the adapter's kind.
   */
  describeBackend?(config: z.output<Schema>, user: string): string;
  /**
   * The tenant's store. Async so that the module holding the store, and the client library it
   * needs (AWS SDK, imapflow), is imported here and only here (`await import('./store.js')`):
   * a gateway without such a tenant never loads it. Called at start-up and for every tenant a
   * reload changes; the old store goes on serving running sessions meanwhile.
   * @throws ConfigError for settings that cannot work, with issues naming the adapter's own keys.
   */
  create(config: z.output<Schema> & TenantSettings, deps: AdapterDeps): Promise<MailStore>;
}
