import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESTART_BASE_MS, RESTART_MAX_MS, RESTART_STABLE_MS, RestartBackoff } from '../../src/cluster/restart-backoff.js';

describe('worker restart back-off', () => {
  it('doubles while a worker keeps dying young, up to the cap, and starts over once one ran long enough', () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 10 }, (_, i) => b.next(i * 1000, i * 1000 + 500));
    assert.deepEqual(delays.slice(0, 4), [RESTART_BASE_MS, RESTART_BASE_MS * 2, RESTART_BASE_MS * 4, RESTART_BASE_MS * 8]);
    assert.equal(delays.at(-1), RESTART_MAX_MS);
    assert.ok(delays.every((d, i) => i === 0 || d >= (delays[i - 1] as number)));
    assert.equal(b.next(0, RESTART_STABLE_MS), RESTART_BASE_MS, 'a worker that ran a minute died of something else');
  });
});
