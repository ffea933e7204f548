/** The `workers` setting as a number of processes. */
import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';

export function workerCount(setting: Config['workers']): number {
  return setting === 'auto' ? availableParallelism() : setting;
}
