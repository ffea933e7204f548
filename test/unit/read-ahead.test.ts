import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadAhead } from '../../adapters/shared/read-ahead.js';
import type { MessageInfo } from '../../adapters/contract.js';

const messages: MessageInfo[] = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, uidl: `u${i}`, size: 100 }));

const perId = (load: (id: string) => Promise<Buffer | null>) => (ids: readonly string[]) => new Map(ids.map((id) => [id, load(id)]));

async function body(stream: AsyncIterable<Buffer> | undefined): Promise<string | undefined> {
  if (stream === undefined) return undefined;
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts).toString();
}

describe('ReadAhead', () => {
  it('loads the next messages after a fetch, serves them from memory, refills in batches', async () => {
    const loaded: string[] = [];
    const ra = new ReadAhead(
      messages,
      { messages: 3, maxMessage: 1000, budget: 10_000 },
      perId(async (id) => {
        loaded.push(id);
        return Buffer.from(`data of ${id}`);
      }),
    );
    assert.equal(await ra.take('m0'), undefined, 'the first message is not read ahead');
    assert.deepEqual(loaded, ['m1', 'm2', 'm3']);
    assert.equal(await body(await ra.take('m1')), 'data of m1');
    assert.deepEqual(loaded, ['m1', 'm2', 'm3'], 'two of three still ahead: no refill yet');
    assert.equal(await body(await ra.take('m2')), 'data of m2');
    assert.deepEqual(loaded, ['m1', 'm2', 'm3', 'm4', 'm5'], 'half empty: refilled in one batch');
  });

  it('never holds more than the budget and frees entries a client skipped', async () => {
    const loaded: string[] = [];
    const ra = new ReadAhead(
      messages,
      { messages: 8, maxMessage: 1000, budget: 250 },
      perId(async (id) => {
        loaded.push(id);
        return Buffer.alloc(100);
      }),
    );
    await ra.take('m0');
    assert.deepEqual(loaded, ['m1', 'm2'], 'budget 250 allows two 100-octet messages');
    await ra.take('m10');
    assert.deepEqual(loaded.slice(2), ['m11', 'm12'], 'skipped entries were released');
  });

  it('skips messages over the per-message cap and falls back when a load fails', async () => {
    const big: MessageInfo[] = [
      { id: 'a', uidl: 'a', size: 10 },
      { id: 'b', uidl: 'b', size: 5000 },
      { id: 'c', uidl: 'c', size: 10 },
    ];
    const loaded: string[] = [];
    const ra = new ReadAhead(
      big,
      { messages: 4, maxMessage: 1000, budget: 10_000 },
      perId(async (id) => {
        loaded.push(id);
        throw new Error('gone');
      }),
    );
    await ra.take('a');
    assert.deepEqual(loaded, [], 'stops at the first message over the cap');
    await ra.take('b');
    assert.deepEqual(loaded, ['c']);
    assert.equal(await ra.take('c'), undefined, 'a failed load falls back to the normal fetch');
  });
});
