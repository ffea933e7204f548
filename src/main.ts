/** Composition root: config -> logger -> tenants, locks, TLS -> listeners; signals. */
import type { SecureContext } from 'node:tls';
import type { Config, ListenerConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import { LoginDelayTracker } from './locks/login-delay.js';
import { InProcessLocks } from './locks/maildrop-locks.js';
import { createLogger, type Logger } from './logger.js';
import { Pop3Server, type BoundListener } from './pop3/server.js';
import type { ServerContext } from './pop3/server-context.js';
import { loadTlsContexts, type TlsContexts } from './pop3/tls-contexts.js';
import { Tenants } from './tenants.js';

export interface Gateway {
  readonly listeners: readonly BoundListener[];
  readonly logger: Logger;
  readonly server: Pop3Server;
  /** Graceful stop: no new sessions, running ones get the grace period, nothing is deleted. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Everything the config names that must exist before serving: TLS files, users files.
 * Throws ConfigError; used by `serve` and by `check`, so both refuse the same configs.
 */
export function loadResources(config: Config, logger: Logger): { tls: TlsContexts | undefined; tenants: Tenants } {
  const tls = config.tls === undefined ? undefined : loadTlsContexts(config.tls);
  const tenants = new Tenants(config, logger);
  const problems = tenants.check();
  if (problems.length > 0) throw new ConfigError(problems);
  return { tls, tenants };
}

export async function startGateway(config: Config, logger = createLogger(config.log.level)): Promise<Gateway> {
  const { tls, tenants } = loadResources(config, logger);
  if (config.limits.idleTimeoutSeconds < 600) {
    logger.warn({ idleTimeoutSeconds: config.limits.idleTimeoutSeconds }, 'idle timeout below the RFC 1939 minimum of 10 minutes');
  }
  const sharedSecretsAvailable = (): boolean => tenants.all().some(({ auth }) => auth.kind === 'local' && safe(() => auth.users.hasSecrets()));
  const ctx: ServerContext = {
    config,
    logger,
    tenants,
    locks: new InProcessLocks(),
    loginDelay: new LoginDelayTracker(config.capabilities.loginDelaySeconds),
    secureContextFor: (listener: ListenerConfig): SecureContext | undefined =>
      tls === undefined ? undefined : listener.legacyTls ? tls.legacy : tls.modern,
    secureOptionsFor: (listener: ListenerConfig) => (tls === undefined ? undefined : listener.legacyTls ? tls.legacyOptions : tls.modernOptions),
    sharedSecretsAvailable,
    apopAvailable: () => config.auth.apop && sharedSecretsAvailable(),
  };
  const server = new Pop3Server(ctx);
  const listeners = await server.listen();
  let stopped: Promise<void> | undefined;
  return {
    listeners,
    logger,
    server,
    stop: (graceMs = config.limits.shutdownGraceSeconds * 1000) => {
      stopped ??= (async () => {
        logger.info({ graceMs }, 'stopping');
        await server.shutdown(graceMs);
        await tenants.shutdown();
        logger.info('stopped');
      })();
      return stopped;
    },
  };
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

/** SIGTERM/SIGINT: graceful stop, then exit. A second signal exits at once. */
export function stopOnSignals(gateway: Gateway): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(1);
    signalled = true;
    gateway.logger.info({ signal }, 'signal received');
    void gateway.stop().then(() => {
      gateway.logger.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
