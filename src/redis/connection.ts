/**
 * The gateway's one Redis client (ioredis), shared by everything that keeps state there. It is
 * made, and ioredis loaded, only when something first needs it (the shared session state at
 * start-up, or a store asking for the size book), and reconnects on its own. While Redis is
 * unreachable or failing, no caller waits on it: the size book goes without (sizes are
 * measured), the shared locks refuse new logins; the outage is logged once, not once per call.
 * The URL is never logged (it may hold a password).
 */
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { OutageLog } from '../../adapters/shared/outage-log.js';
import type { RedisConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { SharedStateUnavailable } from '../locks/shared-state-unavailable.js';
import type { Logger } from '../logger.js';
import {
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_CONNECT_WAIT_MS,
  REDIS_PAUSE_AFTER_FAILURE_MS,
  REDIS_RECONNECT_BASE_MS,
  REDIS_RECONNECT_MAX_MS,
} from './limits.js';
import { defineScripts } from './scripts.js';

/** ioredis options for the settings (the URL gives host, port, credentials, database and TLS). @throws ConfigError */
export function redisOptions(cfg: RedisConfig): RedisOptions {
  let ca: Buffer | undefined;
  if (cfg.tls?.ca !== undefined) {
    try {
      ca = readFileSync(cfg.tls.ca);
    } catch (err) {
      throw new ConfigError([`redis.tls.ca: cannot read ${cfg.tls.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
    }
  }
  return {
    lazyConnect: true,
    // A command is sent now or fails now: a login never waits in a queue for a Redis that is down.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(REDIS_RECONNECT_BASE_MS * 2 ** (times - 1), REDIS_RECONNECT_MAX_MS),
    connectionName: 'popgate',
    ...(ca !== undefined && { tls: { ca } }),
  };
}

export class RedisConnection {
  readonly keyPrefix: string;
  private readonly options: RedisOptions;
  /** host:port, for log lines. */
  private readonly where: string;
  private readonly outage: OutageLog;
  private client: Promise<Redis> | undefined;
  private pausedUntil = 0;
  private closed = false;

  /** @throws ConfigError when the TLS CA cannot be read. */
  constructor(
    private readonly cfg: RedisConfig,
    private readonly logger: Logger,
  ) {
    this.options = redisOptions(cfg);
    this.keyPrefix = cfg.keyPrefix;
    const url = new URL(cfg.url);
    this.where = `${url.hostname}:${url.port === '' ? '6379' : url.port}`;
    const costs =
      cfg.sessionState === 'redis'
        ? 'new logins are refused with [SYS/TEMP] (the maildrop locks are there) and message sizes are measured'
        : 'message sizes are measured instead of read from it';
    this.outage = new OutageLog(logger, `redis: unreachable or failing: ${costs}, until it works again`, 'redis: working again');
  }

  /** Starts connecting, if nothing did yet: a store that will need Redis calls it when it is made. */
  start(): void {
    void this.open();
  }

  /**
   * Runs a pipeline built by `build`: its replies, or undefined when Redis cannot be used now or
   * any command in it failed (logged once per outage). Never rejects.
   */
  async exec(build: (pipeline: ChainableCommander) => void): Promise<unknown[] | undefined> {
    try {
      return await this.run(build);
    } catch (err) {
      if (err instanceof SharedStateUnavailable) return undefined;
      throw err;
    }
  }

  /**
   * Runs a pipeline built by `build`: its replies.
   * @throws SharedStateUnavailable when Redis cannot be used now or any command in it failed (logged once per outage).
   */
  async run(build: (pipeline: ChainableCommander) => void): Promise<unknown[]> {
    const client = await this.usable();
    if (client === undefined) throw new SharedStateUnavailable('redis is not connected');
    let replies: [Error | null, unknown][];
    try {
      const pipeline = client.pipeline();
      build(pipeline);
      replies = (await pipeline.exec()) ?? [];
    } catch (err) {
      throw this.failed(err);
    }
    const failure = replies.find(([err]) => err !== null)?.[0];
    if (failure != null) throw this.failed(failure);
    this.outage.working({ redis: this.where });
    return replies.map(([, value]) => value);
  }

  /**
   * Sends a pipeline whose failure costs only a key that expires later (a release, the undo of
   * a command that timed out), whenever the connection is up, even while Redis is left alone
   * after a failure: on a hung server it runs once the server answers again, after the commands
   * sent before it. Waits for it only while Redis is healthy. Never rejects; errors are ignored.
   */
  async cleanUp(build: (pipeline: ChainableCommander) => void): Promise<void> {
    const client = this.client === undefined ? undefined : await this.client;
    if (this.closed || client?.status !== 'ready') return;
    const pipeline = client.pipeline();
    build(pipeline);
    const done = pipeline.exec().then(
      () => undefined,
      () => undefined,
    );
    if (Date.now() >= this.pausedUntil) await done;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.client !== undefined) (await this.client).disconnect();
  }

  /** The client when it can take a command now: waits briefly for a connection being made, never during a known outage. */
  private async usable(): Promise<Redis | undefined> {
    if (this.closed) return undefined;
    const client = await this.open();
    if (client.status === 'ready') return Date.now() < this.pausedUntil ? undefined : client;
    if (this.outage.isDown || client.status === 'end') return undefined;
    return (await readyWithin(client, REDIS_CONNECT_WAIT_MS)) ? client : undefined;
  }

  /** A command failed: logged (once per outage), and Redis left alone for a while. */
  private failed(err: unknown): SharedStateUnavailable {
    this.pausedUntil = Date.now() + REDIS_PAUSE_AFTER_FAILURE_MS;
    this.outage.failed(err, { redis: this.where });
    return new SharedStateUnavailable(`redis command failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  private open(): Promise<Redis> {
    this.client ??= (async () => {
      const { Redis } = await import('ioredis');
      const client = new Redis(this.cfg.url, this.options);
      defineScripts(client);
      client.on('ready', () => {
        this.pausedUntil = 0;
        this.logger.debug({ redis: this.where }, 'redis: connected');
        this.outage.working({ redis: this.where });
      });
      // Each failed connection attempt is an 'error' event; the outage is logged at the first.
      client.on('error', (err: Error) => this.outage.failed(err, { redis: this.where }));
      // Failures arrive as 'error' events too, and reconnection is automatic.
      client.connect().catch(() => undefined);
      return client;
    })();
    return this.client;
  }
}

/** True once the client is ready; false at its next error, when it gives up, or after `ms`. */
function readyWithin(client: Redis, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onFail);
      client.off('end', onFail);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const onFail = (): void => done(false);
    const timer = setTimeout(onFail, ms);
    client.on('ready', onReady);
    client.on('error', onFail);
    client.on('end', onFail);
  });
}
