/**
 * What one Gmail user costs Google, measured on the stand-in's side: at most `maxInFlightPerUser`
 * of the user's requests at once however deep a client pipelines (the size scan, the read-ahead
 * and the RETR in hand all share the user's places), while another user is not held behind
 * them; and quota units paced to `unitsPerSecond` (messages.list and messages.get cost 5), a
 * token bucket that starts full (adapters/shared/unit-pacer.ts: the burst is one second's units).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { wireBody, wireSize } from '../helpers/client-corpus.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import type { Pop3TestClient } from '../helpers/pop3-client.js';
import type { MeteredRequest } from '../helpers/request-meter.js';
import { loggedIn, waitUntil } from '../helpers/tx-util.js';

const ALICE = ALICE_GMAIL.user;
const BOB = { user: 'bob@example.com', password: 'bobpass' } as const;
const USERS = { [ALICE]: { password: ALICE_GMAIL.password }, [BOB.user]: { password: BOB.password } };

/** Small messages with dot lines, bare LF, 8-bit text and (every third) no final line end. */
function message(n: number): Buffer {
  const text = `From: a@example.com\nSubject: quota ${n}\n\n.dot line ${n}\n..two dots\nGrüße ${'x'.repeat(n * 37)}\r\ncrlf line\nlast${n % 3 === 0 ? '' : '\n'}`;
  return Buffer.from(text, 'utf8');
}

/** Sends STAT and one RETR per message in one write; checks every answer byte for byte. */
async function pipelinedDownload(c: Pop3TestClient, messages: readonly Buffer[]): Promise<void> {
  c.send(`STAT\r\n${messages.map((_, i) => `RETR ${i + 1}\r\n`).join('')}`);
  const total = messages.reduce((a, m) => a + wireSize(m), 0);
  assert.equal(await c.readLine(), `+OK ${messages.length} ${total}`);
  for (const [i, m] of messages.entries()) {
    assert.match(await c.readLine(), /^\+OK /, `RETR ${i + 1}`);
    const body = await c.readMultiline();
    assert.ok(body.equals(wireBody(m)), `RETR ${i + 1}: ${JSON.stringify(body.toString('utf8').slice(0, 200))}`);
  }
}

describe('gmail: maxInFlightPerUser', () => {
  const LIMIT = 3;
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    g.domainUsers.add(BOB.user);
    // Pacing lifted: only the in-flight limit shapes the requests here.
    gw = await startGmailGateway(g, { users: USERS, tenant: { maxInFlightPerUser: LIMIT, unitsPerSecond: 1_000_000 } });
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it(`a deep-pipelined download keeps ${LIMIT} of the user's requests in flight, never more; another user is served meanwhile`, async () => {
    const aliceMail = Array.from({ length: 24 }, (_, i) => message(i + 1));
    const bobMail = [message(100), message(101)];
    for (const m of aliceMail) g.add(ALICE, m);
    for (const m of bobMail) g.add(BOB.user, m);
    // Slow answers, so that requests pile up behind the limit if anything lets them.
    g.getDelayFor.set(ALICE, 40);
    // Both log in first: what is compared below is the requests of two downloads, not a login's password check.
    const a = await loggedIn(gw, ALICE, ALICE_GMAIL.password);
    const b = await loggedIn(gw, BOB.user, BOB.password);
    g.resetCounts();
    // Alice's first answers are held: her places stay taken while bob downloads.
    const releaseAlice = g.holdGets(ALICE);
    const download = pipelinedDownload(a, aliceMail);
    try {
      await waitUntil(() => g.meter.inFlight(ALICE) === LIMIT, "alice's requests to fill her places");
      assert.match(await b.command('STAT', 3000), /^\+OK 2 /);
      const r = await b.multiline('RETR 2', 3000);
      assert.ok(r.body.equals(wireBody(bobMail[1] as Buffer)));
      assert.equal(g.meter.inFlight(ALICE), LIMIT, "alice's requests were still held");
      assert.ok(g.meter.peakAll > LIMIT, `bob's requests went alongside alice's full places (peak of both: ${g.meter.peakAll})`);
    } finally {
      releaseAlice();
    }
    await b.quit();
    await download;
    await a.quit();
    assert.equal(g.meter.peak(ALICE), LIMIT, `alice's peak in flight: ${g.meter.peak(ALICE)} (${g.meter.of(ALICE).length} requests)`);
  });
});

describe('gmail: unitsPerSecond', () => {
  const RATE = 50;
  /** Units of each metered operation (Gmail's quota table). */
  const UNITS: Record<string, number> = { list: 5, get: 5 };
  /** One request late or early at the stand-in (timers, the event loop) is not a breach. */
  const SLACK = 5;
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g, { tenant: { unitsPerSecond: RATE } });
  });
  afterEach(() => g.clear(ALICE));
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it(`${RATE} units/s: in no stretch of time does the stand-in see more than the full bucket plus what refills meanwhile`, async () => {
    const mail = Array.from({ length: 12 }, (_, i) => message(i + 1));
    for (const m of mail) g.add(ALICE, m);
    g.resetCounts();
    const c = await loggedIn(gw, ALICE, ALICE_GMAIL.password);
    await pipelinedDownload(c, mail);
    await c.quit();

    const seen: MeteredRequest[] = g.meter.of(ALICE);
    const units = (r: MeteredRequest): number => UNITS[r.op] ?? assert.fail(`unexpected ${r.op}`);
    const spent = seen.reduce((a, r) => a + units(r), 0);
    assert.ok(spent >= 5 + 2 * 12 * 5, `one list, a size scan and a download: ${spent} units`);
    // Token bucket: between any two arrivals, at most the burst plus the refill in between.
    let worstWindow = 0;
    for (let i = 0; i < seen.length; i++) {
      let sum = 0;
      for (let j = i; j < seen.length; j++) {
        sum += units(seen[j] as MeteredRequest);
        const ms = (seen[j] as MeteredRequest).at - (seen[i] as MeteredRequest).at;
        const allowed = RATE + (RATE * ms) / 1000 + SLACK;
        assert.ok(sum <= allowed, `${sum} units in ${ms.toFixed(0)} ms (requests ${i}..${j}); the bucket allows ${allowed.toFixed(0)}`);
        if (ms < 1000) worstWindow = Math.max(worstWindow, sum);
      }
    }
    assert.ok(worstWindow <= 2 * RATE + SLACK, `${worstWindow} units within one second: at most the first burst and a second's worth`);
    const span = (seen.at(-1) as MeteredRequest).at - (seen[0] as MeteredRequest).at;
    process.stderr.write(`# unitsPerSecond ${RATE}: ${spent} units over ${(span / 1000).toFixed(2)} s at the stand-in; busiest second ${worstWindow} units\n`);
  });
});
