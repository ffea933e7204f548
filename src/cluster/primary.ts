/**
 * The primary of `workers: N`: forks N workers that share the listeners (Node's cluster hands
 * each accepted connection to one of them in turn; each worker is a process with its own file
 * limit), keeps N running (restarting one that dies, with back-off), passes reloads and stops on
 * to them as messages, and collects their figures. It opens no listener, store or Redis
 * connection of its own.
 *
 * Signals: SIGTERM/SIGINT drain every worker (a second one kills them); SIGHUP reloads the
 * config in every worker; SIGUSR2 logs each worker's figures.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { isFromWorker, type ToWorker, type WorkerStats } from './messages.js';
import { RestartBackoff } from './restart-backoff.js';
import { WORKER_ENV } from './worker.js';
import { workerCount } from './worker-count.js';

/** How long `stats()` waits for the workers' answers. */
const STATS_TIMEOUT_MS = 1000;
/** After the shutdown grace, how long workers still get to close before they are killed. */
const STOP_MARGIN_MS = 10_000;

interface Slot {
  readonly number: number;
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  readonly backoff: RestartBackoff;
  restart: NodeJS.Timeout | undefined;
}

/** What the primary offers whatever aggregates the workers (the admin API and metrics can build on it). */
export interface WorkerPool {
  /** Each running worker's figures (those that answer within a second). */
  stats(): Promise<WorkerStats[]>;
}

export function runPrimary(count: number, config: Config, loadConfig: () => Config): WorkerPool {
  const logger = createLogger(config.log.level).child({ role: 'primary', pid: process.pid });
  const graceMs = config.limits.shutdownGraceSeconds * 1000;
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
    number: i + 1,
    worker: undefined,
    startedAt: 0,
    ready: false,
    backoff: new RestartBackoff(),
    restart: undefined,
  }));
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let exitCode = 0;
  let statsRequest = 0;
  const statsWaiters = new Map<number, (stats: WorkerStats) => void>();

  const send = (slot: Slot, message: ToWorker): void => {
    if (slot.worker?.isConnected() === true) slot.worker.send(message);
  };

  const fork = (slot: Slot): void => {
    slot.startedAt = Date.now();
    slot.ready = false;
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.number) });
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      if (message.type === 'popgate:stats') return statsWaiters.get(message.request)?.(message.stats);
      slot.ready = true;
      logger.info({ worker: slot.number, workerPid: worker.process.pid }, 'worker ready');
      if (phase === 'starting' && slots.every((s) => s.ready)) {
        phase = 'running';
        logger.info({ workers: count }, 'all workers ready');
      }
    });
    worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const fields = { worker: slot.number, workerPid: worker.process.pid, code, signal };
    if (phase === 'stopping') {
      logger.info(fields, 'worker stopped');
      if (slots.every((s) => s.worker === undefined)) finish();
      return;
    }
    if (phase === 'starting' && !slot.ready) {
      // Its own error is on stderr (a config error: exit code 2); the others would fail alike.
      logger.error(fields, 'a worker failed to start; stopping');
      exitCode = code ?? 1;
      stopAll();
      return;
    }
    const delay = slot.backoff.next(slot.startedAt);
    logger.error({ ...fields, restartInMs: delay }, 'worker died; starting another');
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (phase !== 'stopping') fork(slot);
    }, delay);
  };

  const stopAll = (): void => {
    phase = 'stopping';
    for (const slot of slots) {
      clearTimeout(slot.restart);
      // One still starting has no session to drain, and may not listen for messages yet.
      if (slot.ready) send(slot, { type: 'popgate:stop' });
      else slot.worker?.process.kill('SIGTERM');
    }
    if (slots.every((s) => s.worker === undefined)) return finish();
    setTimeout(() => {
      logger.warn('workers still running after the shutdown grace; killing them');
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    }, graceMs + STOP_MARGIN_MS).unref();
  };

  const finish = (): void => {
    logger.info({ code: exitCode }, 'stopped');
    logger.flush();
    process.exit(exitCode);
  };

  const stats = async (): Promise<WorkerStats[]> => {
    const request = ++statsRequest;
    const live = slots.filter((s) => s.ready && s.worker?.isConnected() === true);
    const answers: WorkerStats[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STATS_TIMEOUT_MS);
      statsWaiters.set(request, (one) => {
        answers.push(one);
        if (answers.length === live.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      if (live.length === 0) resolve();
      for (const slot of live) send(slot, { type: 'popgate:stats', request });
    });
    statsWaiters.delete(request);
    return answers.sort((a, b) => a.worker - b.worker);
  };

  handlePrimarySignals(logger, {
    stop: () => (phase === 'stopping' ? killAll() : stopAll()),
    reload: () => {
      if (!configLoads(logger, loadConfig, count)) return;
      for (const slot of slots) send(slot, { type: 'popgate:reload' });
    },
    report: () => void stats().then((workers) => logger.info({ workers }, 'workers')),
  });
  const killAll = (): void => {
    logger.warn('second stop signal: killing the workers');
    for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    process.exit(1);
  };

  logger.info({ workers: count }, 'starting workers');
  for (const slot of slots) fork(slot);
  return { stats };
}

function handlePrimarySignals(logger: Logger, on: { stop(): void; reload(): void; report(): void }): void {
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received; draining every worker');
    on.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config in every worker');
    on.reload();
  });
  process.on('SIGUSR2', () => on.report());
}

/**
 * The primary reads the config only to spare every worker the same error: a file that does not
 * load is reported once here and not passed on. A changed `workers` needs a restart.
 */
function configLoads(logger: Logger, loadConfig: () => Config, count: number): boolean {
  try {
    const next = workerCount(loadConfig().workers);
    if (next !== count) logger.warn({ workers: count, configured: next }, 'workers changed in the config: that needs a restart');
    return true;
  } catch (err) {
    const problems = err instanceof ConfigError ? err.issues : [(err as Error).message];
    logger.error({ problems }, 'config reload failed; every worker keeps its running config');
    return false;
  }
}
