/**
 * Gmail's 403s, as /work/shared/recipes/GMAIL-API.md §7 gives their bodies: the per-project
 * `rateLimitExceeded` and the per-user `userRateLimitExceeded` are throttling (Retry-After
 * honoured up to the 8 s cap, else jittered exponential back-off from 250 ms), and the
 * RETR that met them still arrives byte for byte; `insufficientPermissions` (Google's current
 * body, with ACCESS_TOKEN_SCOPE_INSUFFICIENT in its details) is not retried and gives
 * [SYS/PERM] plus an error line telling the operator which scope to grant. Waits are measured
 * between the arrivals the stand-in records. (failures.test.ts covers 429 at login, 503, 401.)
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { wireBody, wireSize } from '../helpers/client-corpus.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { gmailError, startGmailStandin, type FaultReply, type GmailStandin } from '../helpers/gmail-standin.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

const U = ALICE_GMAIL.user;

/** ~150 KB (several base64 slices): dot lines, bare LF and CRLF, 8-bit text, no final line end. */
const AWKWARD = Buffer.from(
  `From: a@example.com\nSubject: throttled\n\n${Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `.${i} dot` : i % 5 === 0 ? `Grüße ${i}\r` : `line ${i} ${'x'.repeat(40)}`)).join('\n')}\n.\nend`,
  'utf8',
);

/** Google's answer to a token without the scope (errors[] as the Gmail guide shows, plus the newer status and details). */
const SCOPE_INSUFFICIENT: FaultReply = {
  status: 403,
  body: {
    error: {
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
      status: 'PERMISSION_DENIED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' }],
    },
  },
};

describe('gmail: 403 throttling and refusals', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  /** Sessions of the running test, dropped after it (a failed one must not lock the next test out). */
  const sessions: Pop3TestClient[] = [];
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g);
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });
  afterEach(() => {
    for (const c of sessions.splice(0)) c.destroy();
  });
  beforeEach(async () => {
    await waitForNoSessions(gw);
    g.clear(U);
    g.add(U, AWKWARD);
  });

  /** A session whose one message has its size counted already (so RETR makes one messages.get). */
  async function sized(): Promise<Pop3TestClient> {
    const c = await loggedIn(gw, U, ALICE_GMAIL.password);
    sessions.push(c);
    assert.equal(await c.command('STAT'), `+OK 1 ${wireSize(AWKWARD)}`);
    g.resetCounts();
    return c;
  }

  /** Milliseconds between the arrivals of the user's messages.get requests. */
  function gaps(): number[] {
    const at = g.meter.of(U, 'get').map((r) => r.at);
    return at.slice(1).map((t, i) => t - (at[i] as number));
  }

  it('per-project rateLimitExceeded and per-user userRateLimitExceeded: backed off, then Retry-After honoured; the RETR arrives byte for byte', async () => {
    const c = await sized();
    g.fault('get', gmailError(403, 'rateLimitExceeded', 'Quota exceeded for quota metric Queries per minute'));
    g.fault('get', gmailError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded'));
    g.fault('get', { ...gmailError(403, 'rateLimitExceeded', 'Quota exceeded for quota metric Queries per minute'), headers: { 'retry-after': '1' } });
    const r = await c.multiline('RETR 1');
    assert.match(await c.quit(), /^\+OK/);
    assert.match(r.status, /^\+OK /);
    assert.ok(r.body.equals(wireBody(AWKWARD)), 'the message arrives byte for byte after the retries');
    assert.equal(g.counts.get, 4);
    const [first, second, asked] = gaps() as [number, number, number];
    // Jittered over the upper half of a doubling ceiling: [125, 250] ms, then [250, 500] ms (plus a round trip).
    assert.ok(first >= 120 && first < 400, `first back-off ${first.toFixed(0)} ms`);
    assert.ok(second >= 245 && second < 650, `second back-off ${second.toFixed(0)} ms`);
    assert.ok(asked >= 995 && asked < 1500, `Retry-After: 1 honoured: ${asked.toFixed(0)} ms`);
  });

  it('a Retry-After past the 8 s cap is not waited for: -ERR [SYS/TEMP] at once, and the next RETR works', async () => {
    const c = await sized();
    g.fault('get', { ...gmailError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded'), headers: { 'retry-after': '60' } });
    const started = Date.now();
    assert.match(await c.command('RETR 1'), /^-ERR \[SYS\/TEMP\]/);
    assert.ok(Date.now() - started < 1000, 'answered without waiting');
    assert.equal(g.counts.get, 1, 'not sent again');
    const r = await c.multiline('RETR 1');
    assert.ok(r.body.equals(wireBody(AWKWARD)));
    assert.match(await c.quit(), /^\+OK/);
  });

  it('403 insufficientPermissions on messages.get: not retried, -ERR [SYS/PERM] for that RETR, an error line says which scope to grant', async () => {
    const c = await sized();
    const from = gw.logs.length;
    g.fault('get', SCOPE_INSUFFICIENT);
    assert.match(await c.command('RETR 1'), /^-ERR \[SYS\/PERM\]/);
    assert.equal(g.counts.get, 1, 'not retried');
    assert.match(await c.command('NOOP'), /^\+OK/, 'the session goes on');
    assert.match(await c.quit(), /^\+OK/);
    const line = gw.logs.slice(from).find((l) => l.includes('"level":50'));
    assert.ok(line !== undefined, 'an error line');
    assert.match(line, /insufficientPermissions/);
    assert.match(line, /Domain-wide delegation/, 'where to grant it');
    assert.match(line, /gmail\.readonly/, 'a refused read names a scope that reads');
    assert.doesNotMatch(line, /deleteMode: keep|choose a deleteMode/, 'another deleteMode does not cure a refused read');
  });

  it('403 insufficientPermissions on messages.list at login: -ERR [SYS/PERM] after one request, and the error line', async () => {
    const from = gw.logs.length;
    g.resetCounts();
    g.fault('list', SCOPE_INSUFFICIENT);
    const c = await Pop3TestClient.connect(gw.port);
    sessions.push(c);
    await c.command(`USER ${U}`);
    assert.match(await c.command(`PASS ${ALICE_GMAIL.password}`), /^-ERR \[SYS\/PERM\]/);
    assert.equal(g.counts.list, 1, 'not retried');
    assert.ok(
      gw.logs.slice(from).some((l) => l.includes('"level":50') && l.includes('insufficientPermissions') && l.includes('gmail.readonly')),
      'an error line says which scope to grant',
    );
  });
});
