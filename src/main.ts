/** Composition root: config -> logger -> Redis, tenants, locks, TLS -> listeners; signals and reload. */
import type { SecureContext } from 'node:tls';
import { LoginPenalties } from './auth/login-penalties.js';
import type { Config, ListenerConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import { Identity } from './identity/identity.js';
import { LoginDelayTracker, type LoginDelays } from './locks/login-delay.js';
import { LoginShedder } from './locks/login-shedder.js';
import { InProcessLocks, type MaildropLocks } from './locks/maildrop-locks.js';
import { TenantSessions, type TenantSlots } from './locks/tenant-sessions.js';
import { createLogger, type Logger } from './logger.js';
import { Pop3Server, type BoundListener } from './pop3/server.js';
import type { ServerContext } from './pop3/server-context.js';
import { loadTlsContexts, type TlsContexts } from './pop3/tls-contexts.js';
import { RedisConnection, redisOptions } from './redis/connection.js';
import { redisSessionState } from './redis/session-state.js';
import { redisSizeBook } from './redis/sizes.js';
import { Tenants, type StoreServices } from './tenants.js';
import type { ConsentDeps } from './web/deps.js';
import type { ConsentServer } from './web/listener.js';
import { loadWebResources, type WebResources } from './web/resources.js';

export interface Gateway {
  readonly listeners: readonly BoundListener[];
  readonly logger: Logger;
  readonly server: Pop3Server;
  /** The config new sessions get. */
  readonly config: Config;
  /** Failed-login penalties (counters for the metrics). */
  readonly penalties: LoginPenalties;
  /** Logins in flight, waiting and shed (counters for the metrics). */
  readonly shedder: LoginShedder;
  /**
   * The identity side of the config new sessions get: providers, grants and the links API
   * (`identity.grants?.links`) the consent pages drive.
   */
  readonly identity: Identity;
  /** The consent pages' listener, when the config has `identity.web`. */
  readonly web: ConsentServer | undefined;
  /**
   * New sessions use `config` from now on; running ones finish on the config they started
   * with. Rejects with ConfigError (and changes nothing) when the config cannot be loaded.
   * Reloads run one at a time, in the order they were asked for.
   */
  reload(config: Config): Promise<void>;
  /** Graceful stop: no new sessions, running ones get the grace period, nothing is deleted. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Everything the config names that must exist before serving: TLS files (Redis's CA among
 * them), users files. Throws ConfigError; used by `serve`, `check` and reload, so all refuse the
 * same configs. `services`: what the stores get from the running gateway (none for `check`).
 */
export async function loadResources(config: Config, logger: Logger, previous?: Tenants, services?: StoreServices): Promise<Resources> {
  const tls = config.tls === undefined ? undefined : loadTlsContexts(config.tls);
  if (config.redis !== undefined) redisOptions(config.redis);
  const identity = await Identity.load(config.identity, logger, previous?.identity);
  const web = config.identity?.web === undefined ? undefined : loadWebResources(config.identity.web);
  const tenants = await Tenants.load(config, logger, identity, previous, services);
  const problems = tenants.check();
  if (problems.length > 0) {
    await tenants.discard();
    throw new ConfigError(problems);
  }
  tenants.takeOverReused();
  return {
    tls,
    tenants,
    identity,
    web,
    warnings: [...plaintextWarnings(config), ...proxyProtocolWarnings(config), ...tenants.warnings(), ...identity.warnings(), ...(web?.warnings ?? [])],
  };
}

export interface Resources {
  readonly tls: TlsContexts | undefined;
  readonly tenants: Tenants;
  /** Identity providers, grants and links (the consent pages use `identity.grants.links`). */
  readonly identity: Identity;
  /** The consent pages' users file, session keys and certificate (with `identity.web`). */
  readonly web: WebResources | undefined;
  /** Risky settings that still load: logged at start and reload, printed by `popgate check`. */
  readonly warnings: readonly string[];
}

function plaintextWarnings(config: Config): string[] {
  if (config.allowPlaintextAuth !== 'always') return [];
  return config.listeners.flatMap((l, i) =>
    l.tls === 'none' ? [`listeners.${i} (${l.host}:${l.port}) has no TLS and allowPlaintextAuth is 'always': passwords cross it in clear`] : [],
  );
}

/** A PROXY listener that trusts everyone lets anyone claim any client address (and dodge penalties). */
function proxyProtocolWarnings(config: Config): string[] {
  return config.listeners.flatMap((l, i) =>
    (l.proxyProtocol?.trusted ?? [])
      .filter((cidr) => /\/0$/.test(cidr))
      .map((cidr) => `listeners.${i} (${l.host}:${l.port}) trusts PROXY headers from ${cidr}: anyone can claim any client address; list your proxies only`),
  );
}

interface Shared {
  readonly logger: Logger;
  readonly locks: MaildropLocks;
  readonly loginDelay: LoginDelays;
  readonly penalties: LoginPenalties;
  readonly shedder: LoginShedder;
  readonly tenantSessions: TenantSlots;
}

/** Locks, LOGIN-DELAY times and tenant counts: in Redis when it holds the session state, else in this process. */
function sessionStateFor(config: Config, redis: RedisConnection | undefined): Pick<Shared, 'locks' | 'loginDelay' | 'tenantSessions'> & { stop(): void } {
  if (redis !== undefined && config.redis?.sessionState === 'redis') return redisSessionState(redis, config.redis.lockTtlSeconds);
  return { locks: new InProcessLocks(), loginDelay: new LoginDelayTracker(), tenantSessions: new TenantSessions(), stop: () => undefined };
}

/** A config generation: what new sessions get, and the consent pages' resources of the same config. */
interface Generation {
  readonly ctx: ServerContext;
  readonly web: WebResources | undefined;
}

async function buildContext(config: Config, shared: Shared, redis: RedisConnection | undefined, previous?: Tenants): Promise<Generation> {
  const services: StoreServices = redis === undefined ? {} : { sizeBook: (tenant) => redisSizeBook(redis, tenant) };
  const { tls, tenants, web, warnings } = await loadResources(config, shared.logger, previous, services);
  for (const warning of warnings) shared.logger.warn({ warning }, `config warning: ${warning}`);
  const sharedSecretsAvailable = (): boolean => tenants.all().some(({ auth }) => auth.kind === 'local' && safe(() => auth.users.hasSecrets()));
  const contextOf = (contexts: TlsContexts | undefined, listener: ListenerConfig): SecureContext | undefined =>
    contexts === undefined ? undefined : listener.legacyTls ? contexts.legacy : contexts.modern;
  const ctx: ServerContext = {
    ...shared,
    config,
    tenants,
    secureContextFor: (listener) => contextOf(tls, listener),
    sniCallback: (listener) => (serverName, done) => done(null, contextOf(tenants.forServerName(serverName)?.tls ?? tls, listener)),
    sharedSecretsAvailable,
    apopAvailable: () => config.auth.apop && sharedSecretsAvailable(),
    retire: () => tenants.shutdown(),
  };
  return { ctx, web };
}

/** What the consent pages read from the running generation (a reload replaces links, users and admins). */
function consentDeps(first: WebResources, current: () => Generation, logger: Logger): ConsentDeps {
  return {
    links: () => current().ctx.tenants.identity.grants?.links,
    // A reload that drops identity.web leaves the running pages their users until the restart.
    users: () => (current().web ?? first).users,
    admins: () => new Set(current().ctx.config.identity?.web?.admins ?? []),
    providerOrigins: () =>
      [...current().ctx.tenants.identity.providers.values()].filter((p) => p.redirectUrl !== undefined).map((p) => p.settings.issuer.origin),
    logger: logger.child({ component: 'web' }),
  };
}

/** Starts the consent pages (loading fastify only now), or resolves undefined without `identity.web`. */
async function startWeb(generation: Generation, current: () => Generation, logger: Logger): Promise<ConsentServer | undefined> {
  const web = generation.ctx.config.identity?.web;
  if (web === undefined || generation.web === undefined) return undefined;
  const { startConsentServer } = await import('./web/listener.js');
  const server = await startConsentServer(web, generation.web, consentDeps(generation.web, current, logger));
  logger.info(
    { url: server.url.href, listen: `${server.address.address}:${server.address.port}`, tls: generation.web.tls !== undefined },
    'consent pages listening',
  );
  return server;
}

export async function startGateway(config: Config, logger = createLogger(config.log.level)): Promise<Gateway> {
  // One connection for the gateway's life (a reload keeps it); it connects at once when it
  // holds the session state, else when a store first needs it.
  const redis = config.redis === undefined ? undefined : new RedisConnection(config.redis, logger.child({ component: 'redis' }));
  const sessionState = sessionStateFor(config, redis);
  const shared: Shared = {
    logger,
    locks: sessionState.locks,
    loginDelay: sessionState.loginDelay,
    penalties: new LoginPenalties(undefined, logger),
    shedder: new LoginShedder(),
    tenantSessions: sessionState.tenantSessions,
  };
  let generation: Generation;
  try {
    generation = await buildContext(config, shared, redis);
  } catch (err) {
    sessionState.stop();
    await redis?.close();
    throw err;
  }
  let ctx = generation.ctx;
  if (config.limits.idleTimeoutSeconds < 600) {
    logger.warn({ idleTimeoutSeconds: config.limits.idleTimeoutSeconds }, 'idle timeout below the RFC 1939 minimum of 10 minutes');
  }
  const server = new Pop3Server(ctx);
  const listeners = await server.listen();
  let web: ConsentServer | undefined;
  try {
    web = await startWeb(generation, () => generation, logger);
  } catch (err) {
    await server.shutdown(0);
    await ctx.retire();
    sessionState.stop();
    await redis?.close();
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stopping = (): Error => new Error('the gateway is stopping');
  const reloadNow = async (next: Config): Promise<void> => {
    if (stopped !== undefined) throw stopping();
    const freshGeneration = await buildContext(next, shared, redis, ctx.tenants);
    const fresh = freshGeneration.ctx;
    if (stopped !== undefined) {
      // Stopped while the stores were being created: nothing will serve on them.
      await fresh.retire();
      throw stopping();
    }
    if (webListenerOf(next) !== webListenerOf(ctx.config)) {
      logger.warn(
        'identity.web (listen, tls, publicUrl, sessions, proxies) changed in the config: that needs a restart; the pages keep their settings, users and admins follow the reload',
      );
    }
    if (JSON.stringify(next.listeners) !== JSON.stringify(ctx.config.listeners)) {
      logger.warn('listeners changed in the config: that needs a restart; the old listeners stay');
    }
    if (JSON.stringify(next.redis) !== JSON.stringify(ctx.config.redis)) {
      logger.warn('redis changed in the config: that needs a restart; the running gateway keeps its Redis settings');
    }
    ctx = fresh;
    generation = freshGeneration;
    server.replaceContext(fresh);
    logger.info({ tenants: fresh.tenants.all().map((t) => t.name) }, 'config reloaded');
  };
  /** The last reload asked for; the next one starts when it has settled, on the context it left. */
  let reloads: Promise<void> = Promise.resolve();
  return {
    listeners,
    logger,
    server,
    penalties: shared.penalties,
    shedder: shared.shedder,
    get config() {
      return ctx.config;
    },
    get identity() {
      return ctx.tenants.identity;
    },
    web,
    reload: (next: Config) => {
      const done = reloads.then(() => reloadNow(next));
      reloads = done.catch(() => undefined);
      return done;
    },
    stop: (graceMs = ctx.config.limits.shutdownGraceSeconds * 1000) => {
      stopped ??= (async () => {
        logger.info({ graceMs }, 'stopping');
        await web?.close();
        await server.shutdown(graceMs);
        // The stores hand their last sizes to Redis before it is closed.
        await ctx.retire();
        sessionState.stop();
        await redis?.close();
        logger.info('stopped');
      })();
      return stopped;
    },
  };
}

/** The listener-level web settings (what a reload cannot change), as one comparable string. */
function webListenerOf(config: Config): string {
  const web = config.identity?.web;
  if (web === undefined) return '';
  const { users: _users, admins: _admins, ...fixed } = web;
  return JSON.stringify(fixed);
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

/**
 * SIGTERM/SIGINT: graceful stop, then exit; a second signal exits at once.
 * SIGHUP: `loadConfig()` again and reload; a config that does not load keeps the old one.
 */
export function handleSignals(gateway: Gateway, loadConfig?: () => Config): void {
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
  if (loadConfig === undefined) return;
  process.on('SIGHUP', () => {
    gateway.logger.info({ signal: 'SIGHUP' }, 'reloading the config');
    void reloadLogged(gateway, loadConfig);
  });
}

/** Reloads from `loadConfig()`; a config that does not load is logged and the old one kept. Never rejects. */
export async function reloadLogged(gateway: Gateway, loadConfig: () => Config): Promise<void> {
  try {
    await gateway.reload(loadConfig());
  } catch (err) {
    const problems = err instanceof ConfigError ? err.issues : [(err as Error).message];
    gateway.logger.error({ problems }, 'config reload failed; keeping the running config');
  }
}
