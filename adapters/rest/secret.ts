/**
 * How a session proves itself to the store: the gateway's own credentials (a token or a basic
 * password from a file or variable), the POP3 login passed on (basic), or the access token of
 * the account's linked grant, asked for before each request so a token that expires during a
 * long session is renewed.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, StoreError, type BackendLogin, type TokenSource } from '../contract.js';
import type { RestTenantConfig } from './config.js';

/** The Authorization header of one session's requests. */
export interface SessionAuth {
  /** The header for the next request. @throws StoreError when no credentials can be had (grant refused, provider down) */
  header(signal: AbortSignal): Promise<string>;
  /** The store answered 401 to `header`: true when asking header() again may give another (a renewed token). */
  refused(header: string): boolean;
}

function readSecret(cfg: RestTenantConfig): string {
  if (cfg.secretFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(cfg.secretFile, 'utf8');
    } catch (err) {
      throw new ConfigError([`secretFile: cannot read ${cfg.secretFile}: ${(err as Error).message}`]);
    }
    // Editors and `echo` add a line end; it is never part of a token or password.
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new ConfigError([`secretFile: ${cfg.secretFile} is empty`]);
    return secret;
  }
  // The variable's name is configuration; its value is read here, when the store is created, so
  // the secret never passes through the parsed config (which can be printed and logged).
  const name = cfg.secretEnv as string;
  const value = process.env[name];
  if (value === undefined || value === '') throw new ConfigError([`secretEnv: the environment variable ${name} is not set`]);
  return value;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

function fixed(header: string): SessionAuth {
  return { header: async () => header, refused: () => false };
}

/**
 * Gives each login its session's credentials; the tenant's secret is read once, here.
 * `tokens`: the gateway's token source, for `auth: grant`.
 */
export function authorizer(cfg: RestTenantConfig, tokens: TokenSource | undefined): (login: BackendLogin) => SessionAuth {
  if (cfg.auth === 'passthrough') {
    return (login) => {
      // RFC 7617: the user-id cannot hold a colon; such a login cannot be passed on.
      if (login.password === undefined || login.user.includes(':')) throw new StoreError('AUTH_FAILED', 'rest: this login cannot be passed on as basic auth');
      return fixed(basic(login.user, login.password));
    };
  }
  if (cfg.auth === 'grant') {
    if (tokens === undefined) throw new ConfigError(['auth: grant needs the gateway to hand the store a token source']);
    return (login) => ({
      header: async (signal) => `Bearer ${await tokens.accessToken(login, signal)}`,
      refused: (header) => {
        tokens.invalidate(login, header.slice('Bearer '.length));
        return tokens.renewable;
      },
    });
  }
  const secret = readSecret(cfg);
  const session = fixed(cfg.auth === 'bearer' ? `Bearer ${secret}` : basic(cfg.username as string, secret));
  return () => session;
}
