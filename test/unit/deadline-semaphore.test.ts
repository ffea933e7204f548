/** The semaphore that bounds logins in flight: first come first served, waiters that give up, limits that change. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineSemaphore } from '../../src/locks/deadline-semaphore.js';
import { LoginShedder } from '../../src/locks/login-shedder.js';

describe('DeadlineSemaphore', () => {
  it('grants up to its limit at once, then hands released slots to waiters in arrival order', async () => {
    const s = new DeadlineSemaphore(2);
    assert.equal(await s.acquire(0), true);
    assert.equal(await s.acquire(0), true);
    assert.equal(await s.acquire(0), false, 'no wait allowed, none free');
    const order: number[] = [];
    const a = s.acquire(1000).then((ok) => ok && order.push(1));
    const b = s.acquire(1000).then((ok) => ok && order.push(2));
    assert.equal(s.waiting, 2);
    s.release();
    s.release();
    await Promise.all([a, b]);
    assert.deepEqual(order, [1, 2]);
    assert.equal(s.inUse, 2);
  });

  it('a waiter gives up at its deadline or when its signal fires, and leaves the queue', async () => {
    const s = new DeadlineSemaphore(1);
    await s.acquire(0);
    const started = Date.now();
    assert.equal(await s.acquire(100), false);
    assert.ok(Date.now() - started >= 95, `gave up after ${Date.now() - started} ms`);
    const abort = new AbortController();
    const gone = s.acquire(10_000, abort.signal);
    abort.abort();
    assert.equal(await gone, false);
    assert.equal(s.waiting, 0);
    s.release();
    assert.equal(s.inUse, 0, 'the slot went to no one who had left');
  });

  it('a larger limit lets waiters in at once', async () => {
    const s = new DeadlineSemaphore(1);
    await s.acquire(0);
    const waiting = s.acquire(10_000);
    s.setLimit(2);
    assert.equal(await waiting, true);
  });
});

describe('LoginShedder', () => {
  it("a tenant at its bound sheds its own logins, not another tenant's, until the process bound", async () => {
    const shedder = new LoginShedder();
    const limits = { process: 2, tenant: 1, waitMs: 50 };
    const a1 = await shedder.admit('a', limits);
    assert.ok(a1 !== undefined);
    assert.equal(await shedder.admit('a', limits), undefined, 'tenant a is at its bound');
    const b1 = await shedder.admit('b', limits);
    assert.ok(b1 !== undefined, 'tenant b still has room');
    assert.equal(await shedder.admit(undefined, limits), undefined, 'the process is at its bound');
    a1.release();
    a1.release();
    assert.ok((await shedder.admit(undefined, limits)) !== undefined, 'a release (once, however often called) frees a slot');
    shedder.countShed('a');
    shedder.countShed(undefined);
    assert.deepEqual(shedder.stats(), { inFlight: 2, waiting: 0, admitted: 3, shed: 2, shedByTenant: { a: 1, '-': 1 } });
  });
});
