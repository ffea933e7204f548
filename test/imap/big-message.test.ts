/**
 * A 25 MB message through the IMAP adapter: RETR streams it byte for byte; the gateway does not
 * pull it from IMAP faster than the POP3 client takes it (so it never holds it whole); TOP reads
 * only the start of it. A byte-counting proxy between the gateway and Dovecot measures what was
 * read from IMAP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { assertBytes, eventually, putMessages, startImapGateway } from '../helpers/imap-harness.js';
import { countingProxy, StreamingPop3, wireAnswer, type CountingProxy } from '../helpers/imap-net.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

const MB = 1024 * 1024;

/** ~25 MB, CRLF, with dot lines spread over it (dot-stuffing across every partial fetch). */
function bigMessage(): Buffer {
  const lines = ['From: sender@example.com', 'To: alice@example.org', 'Subject: twenty-five megabytes', 'Message-ID: <big-25@popgate.test>', ''];
  let size = lines.reduce((n, l) => n + l.length + 2, 0);
  for (let i = 0; size < 25 * MB; i++) {
    const line =
      i % 1013 === 0 ? '.' : i % 101 === 0 ? `.dotted line ${i}` : `line ${String(i).padStart(8, '0')} ${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2)}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
}

describe('IMAP adapter with a 25 MB message', () => {
  let dovecot: DovecotInstance;
  let proxy: CountingProxy;
  let gw: TestGateway;
  const message = bigMessage();
  const size = expectedSize(message);
  const wire = wireAnswer(expectedBody(message));
  before(async () => {
    assert.ok(size >= 25 * MB);
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(dovecot, [message]);
    proxy = await countingProxy(dovecot.imapPort);
    gw = await startImapGateway(proxy.port);
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await dovecot?.stop();
  });

  it('RETR streams it byte for byte', async (t) => {
    const c = await StreamingPop3.connect(gw.port);
    await c.login('alice', 'alicepass');
    assert.equal(await c.command('LIST 1'), `+OK 1 ${size}`);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
    try {
      assert.equal(await c.command('RETR 1', 30_000), `+OK ${size} octets`);
      const r = await c.checkBody(wire, 60_000);
      assert.equal(r.mismatchAt, undefined, `first wrong octet at ${r.mismatchAt}`);
      assert.equal(r.complete, true, `received ${r.received} of ${wire.length} octets`);
    } finally {
      clearInterval(sampler);
    }
    // Informational only: test client and gateway share this process, so RSS is noisy.
    t.diagnostic(`RSS before ${(rssBefore / MB).toFixed(1)} MB, peak during RETR +${((rssPeak - rssBefore) / MB).toFixed(1)} MB`);
    assert.match(await c.command('NOOP'), /^\+OK/);
    assert.match(await c.command('QUIT'), /^\+OK/);
  });

  it('does not read the message from IMAP faster than the POP3 client takes it', async (t) => {
    const c = await StreamingPop3.connect(gw.port);
    await c.login('alice', 'alicepass');
    const start = proxy.fromServer;
    assert.equal(await c.command('RETR 1', 30_000), `+OK ${size} octets`);
    c.socket.pause();
    // Wait until the gateway has stopped reading from IMAP (no change for 500 ms).
    let last = -1;
    let since = Date.now();
    const pulled = await eventually(
      () => {
        const now = proxy.fromServer - start;
        if (now !== last) {
          last = now;
          since = Date.now();
        }
        return { now, quietMs: Date.now() - since };
      },
      (v) => v.quietMs >= 500,
      'the gateway to stop reading from IMAP while the client does not read',
      20_000,
    );
    t.diagnostic(`read ${(pulled.now / MB).toFixed(1)} MB from IMAP while the client was paused`);
    assert.ok(
      pulled.now < 16 * MB,
      `read ${(pulled.now / MB).toFixed(1)} MB of a ${(size / MB).toFixed(1)} MB message from IMAP while the POP3 client read nothing`,
    );
    c.socket.resume();
    const r = await c.checkBody(wire, 60_000);
    assert.equal(r.mismatchAt, undefined);
    assert.equal(r.complete, true, `received ${r.received} of ${wire.length}`);
    assert.match(await c.command('QUIT'), /^\+OK/);
  });

  it('TOP 1 0 and TOP 1 5 answer promptly and read only the start of the message from IMAP', async () => {
    const c = await loggedIn(gw);
    const full = expectedBody(message);
    const headerEnd = full.indexOf('\r\n\r\n') + 4;
    for (const k of [0, 5]) {
      const start = proxy.fromServer;
      const started = Date.now();
      const r = await c.multiline(`TOP 1 ${k}`);
      const ms = Date.now() - started;
      assert.equal(r.status, '+OK Top of message follows.');
      let end = headerEnd;
      for (let i = 0; i < k; i++) end = full.indexOf('\r\n', end) + 2;
      assertBytes(r.body, full.subarray(0, end), `TOP 1 ${k}`);
      const read = proxy.fromServer - start;
      assert.ok(read < MB, `TOP 1 ${k} read ${read} octets from IMAP`);
      assert.ok(ms < 5000, `TOP 1 ${k} took ${ms} ms`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });
});
