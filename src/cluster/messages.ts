/**
 * What the primary and its workers say to each other over the cluster's IPC channel. Control
 * goes by message rather than by signal, so a signal sent to the whole process group (Ctrl-C in
 * a terminal) does not reach a worker twice.
 */

/** One worker's figures, for whatever aggregates the workers (SIGUSR2 today; the admin API and metrics later). */
export interface WorkerStats {
  readonly worker: number;
  readonly pid: number;
  /** Sessions (connections past accept and TLS handshake). */
  readonly sessions: number;
  /** Accepted sockets, including those still in a TLS handshake. */
  readonly sockets: number;
  readonly rssBytes: number;
}

export type ToWorker = { readonly type: 'popgate:reload' } | { readonly type: 'popgate:stop' } | { readonly type: 'popgate:stats'; readonly request: number };

export type FromWorker = { readonly type: 'popgate:ready' } | { readonly type: 'popgate:stats'; readonly request: number; readonly stats: WorkerStats };

function typed(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || !('type' in message)) return undefined;
  return typeof message.type === 'string' ? message.type : undefined;
}

export function isToWorker(message: unknown): message is ToWorker {
  const type = typed(message);
  return type === 'popgate:reload' || type === 'popgate:stop' || type === 'popgate:stats';
}

export function isFromWorker(message: unknown): message is FromWorker {
  const type = typed(message);
  return type === 'popgate:ready' || type === 'popgate:stats';
}
