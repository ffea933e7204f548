/**
 * The `identity:` section: the OAuth identity providers popgate is a client of, and where it
 * keeps the grants users gave it. Validated with no I/O; secrets and keys are read when the
 * gateway starts (src/identity/identity.ts), so a parsed config never holds one.
 */
import { z } from 'zod';
import { CALLBACK_PATH, callbackUrlOf, webSchema } from '../web/config.js';

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** HTTPS, or HTTP to a loopback host (a local test IdP): tokens never cross a network in clear. */
const endpointUrl = z.url({ protocol: /^https?$/ }).superRefine((value, ctx) => {
  const url = new URL(value);
  if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must be https:// (http:// only for a loopback host)' });
  }
});

const envName = z.string().regex(ENV_NAME, 'must be an environment variable name');

/** Settings every provider kind has. */
const commonFields = {
  /** The application (client) id the provider issued. */
  clientId: z.string().min(1),
  /**
   * The client secret, read from this file (a trailing line end dropped) or this environment
   * variable when the gateway starts. Never in the config file itself, never logged.
   */
  clientSecretFile: z.string().min(1).optional(),
  clientSecretEnv: envName.optional(),
  /** How the client secret is sent to the token endpoint (RFC 6749 section 2.3.1). */
  clientAuth: z.enum(['post', 'basic']).default('post'),
  /**
   * Where the provider sends the browser back after consent: the consent pages' callback, and
   * exactly the redirect URI registered with the provider. Needed to link mailboxes.
   */
  redirectUrl: endpointUrl.optional(),
  /** Scopes asked for at consent (default: the kind's mail scopes; see README). */
  scopes: z.array(z.string().min(1)).min(1).optional(),
  /** Extra authorization request parameters (default: what the kind needs for a refresh token). */
  authorizationParams: z.record(z.string().min(1), z.string()).optional(),
  /** ID token claims that give the mailbox address, the first present wins (default: the kind's). */
  addressClaims: z.array(z.string().min(1)).min(1).optional(),
  /** One request to the provider (discovery, token endpoint) may take this long. */
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
};

/** App-only access (client-credentials grant): the scopes of the token that opens every mailbox. */
const appOnlySchema = z.strictObject({ scopes: z.array(z.string().min(1)).min(1).optional() });

export const providerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('google'), ...commonFields }),
  z.strictObject({
    kind: z.literal('microsoft'),
    ...commonFields,
    /** Directory (tenant) id or domain; `common`, `organizations` or `consumers` for multi-tenant apps. */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, 'a tenant id, a domain, common, organizations or consumers')
      .default('common'),
    /** The cloud's sign-in host (national clouds differ). */
    authority: endpointUrl.default('https://login.microsoftonline.com'),
    /** Client-credentials access to Exchange Online (IMAP/POP with an application permission). */
    appOnly: appOnlySchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('oidc'),
    ...commonFields,
    /** The issuer: its metadata is read from `<issuer>/.well-known/openid-configuration`. */
    issuer: endpointUrl,
    /** Client-credentials access, where the provider and the mail server support it. */
    appOnly: appOnlySchema.optional(),
  }),
]);

const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

export const grantsSchema = z
  .strictObject({
    /** The grants store: a JSON file the gateway writes (mode 0600). */
    file: z.string().min(1),
    /**
     * The keys that encrypt refresh tokens (AES-256-GCM): one base64 key of 32 octets per line
     * (blank lines and # comments ignored), the first one current. From a file or a variable.
     */
    keyFile: z.string().min(1).optional(),
    keyEnv: envName.optional(),
  })
  .superRefine((g, ctx) => {
    if ((g.keyFile === undefined) === (g.keyEnv === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'give exactly one of keyFile and keyEnv' });
    }
  });

export const identitySchema = z
  .strictObject({
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use A-Z a-z 0-9 _ . -'), providerSchema).default({}),
    grants: grantsSchema.optional(),
    /** The consent pages (README "Consent pages"): their listener, who signs in, sessions. */
    web: webSchema.optional(),
  })
  .superRefine((identity, ctx) => {
    if (identity.web !== undefined) webIssues(identity, ctx);
    for (const [name, p] of Object.entries(identity.providers)) {
      const issue = (key: string, message: string): void => ctx.addIssue({ code: 'custom', path: ['providers', name, key], message });
      if ((p.clientSecretFile === undefined) === (p.clientSecretEnv === undefined))
        issue('clientSecretFile', 'give exactly one of clientSecretFile and clientSecretEnv');
      if (p.kind === 'microsoft' && p.appOnly !== undefined && MULTI_TENANT.has(p.tenant.toLowerCase())) {
        issue('tenant', `app-only access needs the organisation's own tenant id or domain, not '${p.tenant}'`);
      }
    }
  });

/** The pages drive the grants store, and each provider that links mailboxes must send the browser back to them. */
function webIssues(
  identity: { web?: z.output<typeof webSchema>; grants?: unknown; providers: Record<string, { redirectUrl?: string | undefined }> },
  ctx: z.core.$RefinementCtx,
): void {
  const web = identity.web;
  if (web === undefined) return;
  if (identity.grants === undefined)
    ctx.addIssue({ code: 'custom', path: ['grants'], message: 'required by identity.web: the pages link mailboxes into the grants store' });
  const expected = callbackUrlOf(web);
  // Port 0 (a test) is only known once bound: then only the path can be checked here.
  const exact = web.publicUrl !== undefined || web.listen.port !== 0;
  for (const [name, p] of Object.entries(identity.providers)) {
    if (p.redirectUrl === undefined) continue;
    const given = new URL(p.redirectUrl);
    const ok = exact ? given.href === expected.href : given.pathname === expected.pathname;
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        path: ['providers', name, 'redirectUrl'],
        message: `must be the consent pages' callback ${exact ? expected.href : `<publicUrl>${CALLBACK_PATH}`} (identity.web), registered with the provider as such`,
      });
    }
  }
}

export type IdentityConfig = z.output<typeof identitySchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type GrantsConfig = z.output<typeof grantsSchema>;
