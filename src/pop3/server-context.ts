/**
 * What every connection shares. A config reload makes a new context (config, tenants, TLS);
 * each connection keeps the one it started with, so running sessions finish on the old config.
 * Locks, login-delay records, login penalties, login slots and tenant session counts are shared
 * by all contexts (locks, login-delay records and tenant counts, with Redis, by every gateway
 * process on it).
 */
import type { SecureContext } from 'node:tls';
import type { LoginPenalties } from '../auth/login-penalties.js';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { LoginDelays } from '../locks/login-delay.js';
import type { LoginShedder } from '../locks/login-shedder.js';
import type { MaildropLocks } from '../locks/maildrop-locks.js';
import type { TenantSlots } from '../locks/tenant-sessions.js';
import type { Logger } from '../logger.js';
import type { Tenants } from '../tenants.js';

export type SniCallback = (serverName: string, done: (err: Error | null, ctx?: SecureContext) => void) => void;

export interface ServerContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly tenants: Tenants;
  readonly locks: MaildropLocks;
  readonly loginDelay: LoginDelays;
  readonly penalties: LoginPenalties;
  readonly shedder: LoginShedder;
  readonly tenantSessions: TenantSlots;
  /** The default TLS context of this listener (implicit TLS and STLS), if TLS is configured. */
  secureContextFor(listener: ListenerConfig): SecureContext | undefined;
  /** Picks the certificate of the tenant an SNI name belongs to, else the default one. */
  sniCallback(listener: ListenerConfig): SniCallback;
  /** Some account has a shared secret, so challenge-response logins can succeed. */
  sharedSecretsAvailable(): boolean;
  /** APOP is on and can succeed, so the greeting carries a timestamp. */
  apopAvailable(): boolean;
  /** Called once a replaced context's last session has ended: frees what only it used. */
  retire(): Promise<void>;
}
