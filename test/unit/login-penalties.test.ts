/** The arithmetic of login penalties: growth, cap, decay, forgetting, and the keys. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginPenalties, addressKey, loginKey, penaltyMs } from '../../src/auth/login-penalties.js';
import { InMemoryPenaltyStore, decayedFailures, lifetimeMs } from '../../src/auth/penalty-store.js';

const cfg = { baseMs: 1000, maxMs: 15_000, halfLifeSeconds: 60 };

describe('login penalties', () => {
  it('double with each failure from the first, up to maxMs; off with baseMs 0', () => {
    assert.deepEqual(
      [0, 0.4, 0.6, 1, 2, 3, 4, 5, 6, 32].map((n) => penaltyMs(n, cfg)),
      [0, 0, 1000, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000],
    );
    assert.equal(penaltyMs(10, { ...cfg, baseMs: 0 }), 0);
  });

  it('a count halves every half-life, and its record lives until it rounds to nothing', () => {
    assert.equal(decayedFailures({ failures: 4, at: 0 }, 60_000, 60_000), 2);
    assert.equal(decayedFailures({ failures: 4, at: 0 }, 120_000, 60_000), 1);
    assert.equal(decayedFailures(undefined, 5, 60_000), 0);
    const life = lifetimeMs(4, 60_000);
    assert.ok(decayedFailures({ failures: 4, at: 0 }, life, 60_000) < 0.5);
    assert.ok(decayedFailures({ failures: 4, at: 0 }, life - 1000, 60_000) >= 0.5);
  });

  it('failures from one address and for one name add up across calls; a success forgets the address only', async () => {
    const p = new LoginPenalties(new InMemoryPenaltyStore());
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) await p.recordFailure('192.0.2.1', 'Alice', cfg, t);
    assert.deepEqual(await p.standing('192.0.2.1', 'bob', cfg, t), { addressMs: 4000, loginMs: 0 });
    assert.deepEqual(await p.standing('192.0.2.2', 'ALICE', cfg, t), { addressMs: 0, loginMs: 4000 }, 'names are case-folded');
    assert.deepEqual(await p.standing('192.0.2.1', 'alice', cfg, t + 60_000), { addressMs: 2000, loginMs: 2000 }, 'one half-life later: half the count');
    await p.recordSuccess('192.0.2.1', cfg);
    assert.deepEqual(await p.standing('192.0.2.1', 'alice', cfg, t), { addressMs: 0, loginMs: 4000 });
    assert.equal(p.stats().failuresRecorded, 3);
    assert.equal(p.stats().tracked, 1);
  });

  it('a failing store means no penalty, counted, never a failed login', async () => {
    const broken = new InMemoryPenaltyStore();
    broken.failures = () => Promise.reject(new Error('down'));
    broken.addFailure = () => Promise.reject(new Error('down'));
    const p = new LoginPenalties(broken);
    await p.recordFailure('192.0.2.1', 'alice', cfg);
    assert.deepEqual(await p.standing('192.0.2.1', 'alice', cfg), { addressMs: 0, loginMs: 0 });
    assert.equal(p.stats().storeErrors, 2);
  });

  it('keys: IPv4 and IPv4-mapped alike, IPv6 by its /64, names hashed to a fixed size', () => {
    assert.equal(addressKey('192.0.2.1'), 'ip:192.0.2.1');
    assert.equal(addressKey('::ffff:192.0.2.1'), 'ip:192.0.2.1');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), addressKey('2001:db8:1:2::9'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::1'), 'ip6:0:0:0:0::/64');
    assert.equal(addressKey('2001:db8::1.2.3.4'), 'ip6:2001:db8:0:0::/64');
    assert.equal(loginKey('Alice'), loginKey('alice'));
    assert.equal(loginKey('x'.repeat(5000)).length, loginKey('a').length);
  });
});
