/**
 * A worker process: one gateway on the listeners the primary shares. It obeys the primary's
 * messages (reload, stop, stats) and stops when the primary is gone; signals sent to it alone
 * work as on a single gateway (SIGTERM drains, SIGHUP reloads).
 */
import cluster from 'node:cluster';
import type { Config } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { handleSignals, reloadLogged, startGateway, type Gateway } from '../main.js';
import { isToWorker, type FromWorker, type WorkerStats } from './messages.js';

/** The worker's number (1..N, kept by its replacement), set by the primary. */
export const WORKER_ENV = 'POPGATE_WORKER';

export async function runWorker(config: Config, loadConfig: () => Config): Promise<void> {
  const worker = Number(process.env[WORKER_ENV] ?? cluster.worker?.id ?? 0);
  const logger = createLogger(config.log.level).child({ worker, pid: process.pid });
  const gateway = await startGateway(config, logger);
  handleSignals(gateway, loadConfig);
  const send = (message: FromWorker): void => void process.send?.(message);
  const stopAndExit = (): void =>
    void gateway.stop().then(() => {
      gateway.logger.flush();
      process.exit(0);
    });
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    switch (message.type) {
      case 'popgate:reload':
        gateway.logger.info('reloading the config (asked by the primary)');
        void reloadLogged(gateway, loadConfig);
        return;
      case 'popgate:stop':
        gateway.logger.info('stopping (asked by the primary)');
        stopAndExit();
        return;
      case 'popgate:stats':
        send({ type: 'popgate:stats', request: message.request, stats: statsOf(gateway, worker) });
        return;
    }
  });
  // The primary is gone (killed): nobody will restart or stop this worker; drain and leave.
  process.on('disconnect', () => {
    gateway.logger.warn('the primary process is gone; stopping');
    stopAndExit();
  });
  send({ type: 'popgate:ready' });
}

function statsOf(gateway: Gateway, worker: number): WorkerStats {
  return {
    worker,
    pid: process.pid,
    sessions: gateway.server.activeConnections,
    sockets: gateway.server.openSockets,
    rssBytes: process.memoryUsage.rss(),
  };
}
