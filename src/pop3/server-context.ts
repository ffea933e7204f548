/** What every connection shares: config, logging, tenants, locks, TLS. Built by main.ts. */
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { LoginDelayTracker } from '../locks/login-delay.js';
import type { MaildropLocks } from '../locks/maildrop-locks.js';
import type { Logger } from '../logger.js';
import type { Tenants } from '../tenants.js';

export interface ServerContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly tenants: Tenants;
  readonly locks: MaildropLocks;
  readonly loginDelay: LoginDelayTracker;
  /** The TLS context for STLS on this listener, if TLS is configured. */
  secureContextFor(listener: ListenerConfig): SecureContext | undefined;
  /** The same as options for an implicit-TLS server. */
  secureOptionsFor(listener: ListenerConfig): SecureContextOptions | undefined;
  /** Some account has a shared secret, so challenge-response logins can succeed. */
  sharedSecretsAvailable(): boolean;
  /** APOP is on and can succeed, so the greeting carries a timestamp. */
  apopAvailable(): boolean;
}
