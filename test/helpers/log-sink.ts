/** A logger whose JSON lines a test can read. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

export function collectingLogger(level: 'debug' | 'info' = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}
