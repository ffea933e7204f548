/**
 * The REST tenant's own settings (the gateway adds the settings every tenant has). The store
 * speaks the HTTP contract in adapters/rest/openapi.yaml.
 */
import { z } from 'zod';
import type { TenantSettings } from '../contract.js';
import { templateProblem } from './mailbox-name.js';

const template = z.string().superRefine((t, ctx) => {
  const problem = templateProblem(t);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const restTenantSchema = z
  .strictObject({
    adapter: z.literal('rest'),
    /** Where the store's API lives, e.g. `https://mail.internal/api/v1` (paths are appended). */
    baseUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    /** The store's mailbox name for a login, with {user}, {local} and {domain} (each URL-encoded). */
    mailbox: template.default('{user}'),
    /**
     * How the gateway proves itself to the store. `bearer`: a token; `basic`: `username` and a
     * password; `passthrough`: the POP3 login's own name and password as basic auth, and the
     * store checks them (no users file); `grant`: devices log in with a device password and the
     * store gets the access token of the account's linked grant at `provider` (renewed during
     * the session when it expires; the store checks it against the identity provider).
     */
    auth: z.enum(['bearer', 'basic', 'passthrough', 'grant']),
    /** The identity provider (a name under `identity.providers`), for `auth: grant`. */
    provider: z.string().min(1).optional(),
    /** The user name for `auth: basic`. */
    username: z.string().min(1).optional(),
    /**
     * The token (bearer) or password (basic): read from this file (trailing line end dropped) or
     * from this environment variable, at start and on reload. Never in the config, never logged.
     */
    secretFile: z.string().min(1).optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** Users file: required unless `auth: passthrough` (then the store checks passwords). */
    users: z.string().min(1).optional(),
    /** At QUIT: delete, keep, or move to another mailbox of the store (`move:archive-{user}`). */
    deleteMode: z
      .union([
        z.enum(['delete', 'keep']),
        z
          .string()
          .regex(/^move:.+$/, 'must be delete, keep or move:<mailbox template>')
          .superRefine((m, ctx) => {
            const problem = templateProblem(m.slice('move:'.length));
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          }),
      ])
      .default('delete'),
    /** Connections to the store, shared by all the tenant's sessions (each RETR holds one while its client reads). */
    maxSockets: z.number().int().min(1).max(65_536).default(64),
    /** One request's wait for the response headers; a message body then streams at the client's pace. */
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    /** Attempts per request for 429, 503, other 5xx answers and failed connections. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** Messages asked for per listing page (the store may return fewer). */
    pageSize: z.number().int().min(1).max(10_000).default(1000),
    /**
     * Where counted message sizes are kept across restarts (one folder per tenant) when the
     * gateway has no `redis`; none: memory only.
     */
    stateDir: z.string().min(1).optional(),
  })
  .superRefine((t, ctx) => {
    const secrets = (t.secretFile === undefined ? 0 : 1) + (t.secretEnv === undefined ? 0 : 1);
    if (t.auth === 'passthrough' || t.auth === 'grant') {
      const why = t.auth === 'grant' ? 'the linked grant gives the token' : 'the POP3 login is passed on';
      for (const key of ['username', 'secretFile', 'secretEnv'] as const) {
        if (t[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not used with auth: ${t.auth} (${why})` });
      }
      if (t.auth === 'grant' && t.users !== undefined)
        ctx.addIssue({ code: 'custom', path: ['users'], message: 'not used with auth: grant (devices log in with device passwords)' });
    } else {
      if (t.users === undefined) ctx.addIssue({ code: 'custom', path: ['users'], message: `required with auth: ${t.auth}` });
      if (secrets !== 1) ctx.addIssue({ code: 'custom', path: ['secretFile'], message: `auth: ${t.auth} needs exactly one of secretFile and secretEnv` });
    }
    if (t.auth === 'basic' && t.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'required with auth: basic' });
    if (t.auth === 'bearer' && t.username !== undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'only used with auth: basic' });
    if (t.auth === 'grant' && t.provider === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'required with auth: grant' });
    if (t.auth !== 'grant' && t.provider !== undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'only with auth: grant' });
  });

export type RestTenantConfig = z.output<typeof restTenantSchema> & TenantSettings;
