/** How the gmail adapter meets throttling, outages, refused tokens and missing scopes. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway, xoauth2 } from '../helpers/gmail-gateway.js';
import { gmailError, MODIFY_SCOPE, READONLY_SCOPE, startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

const U = ALICE_GMAIL.user;

describe('gmail: failures (service account)', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g, { tenant: { maxAttempts: 3 } });
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });
  beforeEach(async () => {
    await waitForNoSessions(gw);
    g.clear(U);
    g.add(U, Buffer.from('Subject: a\n\nA\n'));
    g.resetCounts();
  });

  it('429 with Retry-After, then 403 userRateLimitExceeded, then 503: retried, the login succeeds', async () => {
    g.fault('list', { ...gmailError(429, 'rateLimitExceeded', 'Too many concurrent requests for user'), headers: { 'retry-after': '1' } });
    const t = Date.now();
    const c = await loggedIn(gw, U, ALICE_GMAIL.password);
    assert.ok(Date.now() - t >= 900, 'waited for Retry-After');
    g.fault('get', gmailError(403, 'userRateLimitExceeded'));
    g.fault('get', gmailError(503, 'backendError'));
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    assert.equal(g.counts.get, 3);
    await c.quit();
  });

  it('an outage past the retries: -ERR [SYS/TEMP] at login', async () => {
    g.fault('list', gmailError(500, 'backendError'), 3);
    const c = await Pop3TestClient.connect(gw.port);
    await c.command(`USER ${U}`);
    assert.match(await c.command(`PASS ${ALICE_GMAIL.password}`), /^-ERR \[SYS\/TEMP\]/);
    assert.equal(g.counts.list, 3, 'maxAttempts');
    c.destroy();
  });

  it('a token revoked mid-life: one new token, the request goes through', async () => {
    const c = await loggedIn(gw, U, ALICE_GMAIL.password);
    g.fault('get', { status: 401, body: { error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError' }] } } });
    const tokens = g.counts.token;
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    assert.equal(g.counts.token, tokens + 1);
    await c.quit();
  });

  it('invalid_grant (user not in the domain): -ERR [SYS/PERM] and an error line for the operator', async () => {
    g.domainUsers.delete(U);
    const from = gw.logs.length;
    try {
      // A fresh token is minted only once the cached one is refused.
      g.fault('list', { status: 401, body: { error: { code: 401, errors: [{ reason: 'authError' }] } } });
      const c = await Pop3TestClient.connect(gw.port);
      await c.command(`USER ${U}`);
      assert.match(await c.command(`PASS ${ALICE_GMAIL.password}`), /^-ERR \[SYS\/PERM\]/);
      c.destroy();
    } finally {
      g.domainUsers.add(U);
    }
    assert.ok(
      gw.logs.slice(from).some((l) => l.includes('"level":50') && l.includes('invalid_grant') && l.includes('Workspace domain')),
      'an error line says what to check',
    );
  });

  it('a message deleted after the listing: -ERR for it, the session goes on', async () => {
    const second = g.add(U, Buffer.from('Subject: b\n\nB\n'));
    const c = await loggedIn(gw, U, ALICE_GMAIL.password);
    g.remove(U, second);
    // Its size is counted first (none is known yet): the 404 there is this message's, not the mailbox's.
    assert.equal(await c.command('RETR 2'), '-ERR Message was removed by another client.');
    assert.match((await c.multiline('RETR 1')).status, /^\+OK/);
    await c.quit();
  });
});

describe('gmail: failures (passthrough tokens)', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g, { auth: 'passthrough', users: {} });
    g.add(U, Buffer.from('Subject: a\n\nA\n'));
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it("XOAUTH2 with the user's token logs in; an expired one is refused as a failed login", async () => {
    const c = await Pop3TestClient.connect(gw.port);
    assert.match(await c.command(`AUTH XOAUTH2 ${xoauth2(U, g.issueToken(U, { scopes: [MODIFY_SCOPE] }))}`), /^\+OK/);
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    await c.quit();
    await waitForNoSessions(gw);
    const d = await Pop3TestClient.connect(gw.port);
    const reply = await d.command(`AUTH XOAUTH2 ${xoauth2(U, g.issueToken(U, { ttlSec: -1 }))}`);
    assert.match(reply.startsWith('+ ') ? await d.command('') : reply, /^-ERR \[AUTH\]/);
    d.destroy();
  });

  it('a token without the modify scope: QUIT reports the message not deleted, and the log says why', async () => {
    const from = gw.logs.length;
    const c = await Pop3TestClient.connect(gw.port);
    assert.match(await c.command(`AUTH XOAUTH2 ${xoauth2(U, g.issueToken(U, { scopes: [READONLY_SCOPE] }))}`), /^\+OK/);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.quit(), /^-ERR \[SYS\/TEMP\] 1 of 1/);
    assert.equal(g.inbox(U).length, 1);
    assert.ok(gw.logs.slice(from).some((l) => l.includes('"level":50') && l.includes('lacks the scope')));
  });
});
