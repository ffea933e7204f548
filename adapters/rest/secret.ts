/** The gateway's own credentials for the store, as the Authorization header they make. */
import { readFileSync } from 'node:fs';
import { ConfigError, StoreError, type BackendLogin } from '../contract.js';
import type { RestTenantConfig } from './config.js';

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

/** Gives the Authorization header for a login; the tenant's secret is read once, here. */
export function authorizer(cfg: RestTenantConfig): (login: BackendLogin) => string {
  if (cfg.auth === 'passthrough') {
    return (login) => {
      // RFC 7617: the user-id cannot hold a colon; such a login cannot be passed on.
      if (login.password === undefined || login.user.includes(':')) throw new StoreError('AUTH_FAILED', 'rest: this login cannot be passed on as basic auth');
      return basic(login.user, login.password);
    };
  }
  const secret = readSecret(cfg);
  const header = cfg.auth === 'bearer' ? `Bearer ${secret}` : basic(cfg.username as string, secret);
  return () => header;
}
