/**
 * The size file behind a store without Redis (adapters/shared/known-sizes.ts): a torn last line
 * is skipped, a file holding far more lines than sizes is compacted on load, and a stateDir that
 * cannot be used costs one error line, never a failed lookup.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { KnownSizes } from '../../adapters/shared/known-sizes.js';
import { createLogger } from '../../src/logger.js';

function logSink(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('KnownSizes with a size file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-known-sizes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sizes = (stateDir: string, logger = logSink().logger): KnownSizes =>
    new KnownSizes({ kind: 'rest', stateDir, memory: { maxEntries: 10_000 } }, { logger });

  it('loads what the file holds, skips a torn last line, and appends what is learned', async () => {
    const stateDir = join(dir, 'torn');
    const a = sizes(stateDir);
    assert.deepEqual(await a.known(['x', 'y']), [undefined, undefined]);
    a.remember('x', 10);
    a.remember('y', 20);
    a.remember('y', 20);
    await a.flush();
    const file = join(stateDir, 'rest-sizes.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8') + '["z", 3');
    const b = sizes(stateDir);
    assert.deepEqual(await b.known(['x', 'y', 'z']), [10, 20, undefined]);
    b.remember('z', 30);
    await b.flush();
    assert.deepEqual(await sizes(stateDir).known(['x', 'y', 'z']), [10, 20, 30]);
  });

  it('rewrites a file holding far more lines than sizes', async () => {
    const stateDir = join(dir, 'compact');
    const a = sizes(stateDir);
    await a.known([]);
    for (let i = 0; i < 1500; i++) a.remember('same', i);
    await a.flush();
    const file = join(stateDir, 'rest-sizes.jsonl');
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1500);
    assert.deepEqual(await sizes(stateDir).known(['same']), [1499], 'the last line wins');
    assert.deepEqual(readFileSync(file, 'utf8'), '["same",1499]\n');
  });

  it('a stateDir that cannot be used: lookups answer from memory, one error line for the whole outage', async () => {
    const notADir = join(dir, 'a-file');
    writeFileSync(notADir, 'in the way');
    const { logger, lines } = logSink();
    const s = sizes(notADir, logger);
    assert.deepEqual(await s.known(['a']), [undefined]);
    for (let i = 0; i < 5; i++) {
      s.remember(`k${i}`, i + 1);
      await s.flush();
    }
    assert.deepEqual(await s.known(['k0', 'k4']), [1, 5], 'held in memory');
    await new Promise((resolve) => setImmediate(resolve));
    const errors = lines.filter((l) => l.includes('"level":50'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] as string, /rest: cannot read or write the size file/);
  });
});
