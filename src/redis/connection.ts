/**
 * The gateway's one Redis client (ioredis), shared by everything that keeps state there. It is
 * made, and ioredis loaded, only when something first needs it (a store asking for the size
 * book), and reconnects on its own. Redis is never required to serve: while it is unreachable
 * or failing, callers get no client and go without (sizes are measured instead), and the outage
 * is logged once, not once per call. The URL is never logged (it may hold a password).
 */
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { OutageLog } from '../../adapters/shared/outage-log.js';
import type { RedisConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_CONNECT_WAIT_MS,
  REDIS_PAUSE_AFTER_FAILURE_MS,
  REDIS_RECONNECT_BASE_MS,
  REDIS_RECONNECT_MAX_MS,
} from './limits.js';

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
    this.outage = new OutageLog(
      logger,
      'redis: unreachable or failing: message sizes are measured instead of read from it, until it works again',
      'redis: working again',
    );
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
    const client = await this.usable();
    if (client === undefined) return undefined;
    try {
      const pipeline = client.pipeline();
      build(pipeline);
      const replies = (await pipeline.exec()) ?? [];
      const failure = replies.find(([err]) => err !== null)?.[0];
      if (failure != null) return this.failed(failure);
      this.outage.working({ redis: this.where });
      return replies.map(([, value]) => value);
    } catch (err) {
      return this.failed(err);
    }
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
  private failed(err: unknown): undefined {
    this.pausedUntil = Date.now() + REDIS_PAUSE_AFTER_FAILURE_MS;
    this.outage.failed(err, { redis: this.where });
    return undefined;
  }

  private open(): Promise<Redis> {
    this.client ??= (async () => {
      const { Redis } = await import('ioredis');
      const client = new Redis(this.cfg.url, this.options);
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
