/** Throttling and outages: Retry-After honoured, back-off capped, [SYS/TEMP] once attempts are spent. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { loggedIn } from '../helpers/tx-util.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('REST retries', () => {
  let s: RestStack;
  before(async () => {
    s = await startRestStack({ tenant: { maxAttempts: 3 } });
  });
  after(() => stopRestStack(s));

  it('429 with Retry-After: 1 at login: waits a second, then the listing succeeds', async () => {
    s.store.seed('alice', [Buffer.from('Subject: x\n\nx\n')]);
    s.store.fail(429, { op: 'list', retryAfter: '1' });
    const started = Date.now();
    const c = await loggedIn(s.gw);
    const ms = Date.now() - started;
    assert.ok(ms >= 950, `waited ${ms} ms`);
    assert.equal(s.store.calls.list, 2);
    await c.quit();
  });

  it('5xx without Retry-After on a GET: sent again after a short jittered back-off', async () => {
    s.store.seed('alice', [Buffer.from('Subject: y\n\ny\n')]);
    const c = await loggedIn(s.gw);
    s.store.fail(500, { op: 'get', count: 2 });
    const gets = s.store.calls.get;
    const r = await c.multiline('RETR 1');
    assert.equal(r.body.toString(), 'Subject: y\r\n\r\ny\r\n');
    assert.equal(s.store.calls.get - gets, 3);
    await c.quit();
  });

  it('503 on every attempt: -ERR [SYS/TEMP] after maxAttempts requests', async () => {
    s.store.fail(503, { op: 'list', count: 3, retryAfter: '0' });
    const before = s.store.calls.list;
    const c = await Pop3TestClient.connect(s.gw.port);
    await c.command('USER alice');
    assert.match(await c.command('PASS alicepass'), /^-ERR \[SYS\/TEMP\]/);
    assert.equal(s.store.calls.list - before, 3);
    c.destroy();
  });

  it('a Retry-After longer than 30 s is not waited for: -ERR [SYS/TEMP] at once', async () => {
    s.store.clearFaults();
    s.store.fail(503, { op: 'list', retryAfter: '3600' });
    const started = Date.now();
    const c = await Pop3TestClient.connect(s.gw.port);
    await c.command('USER alice');
    assert.match(await c.command('PASS alicepass'), /^-ERR \[SYS\/TEMP\]/);
    assert.ok(Date.now() - started < 1000);
    c.destroy();
  });
});
