/**
 * Exact sizes: LIST (and STAT, and the RETR status line) announce exactly the octets RETR then
 * sends, for objects stored with LF, with CRLF, mixed, without a final newline, small and large
 * (larger than the 64 KiB probe; those are streamed once and counted). Sizes are computed once
 * per object version: a second session reads no object to answer LIST.
 *
 * `sizes: probe` (opt-in) reads only the first 64 KiB of a large object: one whose first 64 KiB
 * are CRLF-only but which has bare LFs later is announced with its ContentLength (a guess, not
 * cached as exact); RETR, or a TOP that sent the whole message (fetchmail), counts the true
 * octets, and that is what every later session announces.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { startS3Stack, stopS3Stack } from '../helpers/s3-stack.js';
import { ALICE_PREFIX, logLines, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';
import { firstDifference } from '../helpers/client-corpus.js';

const KB = 1024;

function lines(n: number, eol: string, tag: string): string {
  return Array.from({ length: n }, (_, i) => `${tag} line ${String(i).padStart(6, '0')} ${'abcdefghij'.repeat(5)}`).join(eol) + eol;
}

const header = (n: number, eol: string): string =>
  [`From: a@example.com`, `To: b@example.com`, `Subject: size ${n}`, `Message-ID: <size-${n}@example.com>`, ''].join(eol) + eol;

/** An LF object whose last probe octet is the CR of a CRLF (the LF is the first octet after it). */
function splitCrlf(): Buffer {
  const head = Buffer.from(header(8, '\n'));
  return Buffer.concat([head, Buffer.alloc(64 * KB - 1 - head.length, 0x61), Buffer.from('\r\n\nafter\n')]);
}

/** Stored in this order (one after the other, so LastModified and key order agree). */
const MESSAGES: { label: string; content: Buffer }[] = [
  { label: 'LF', content: Buffer.from(header(1, '\n') + 'Body with LF.\nSecond.\n') },
  { label: 'CRLF', content: Buffer.from(header(2, '\r\n') + 'Body with CRLF.\r\nSecond.\r\n') },
  { label: 'no final newline', content: Buffer.from(header(3, '\n') + 'no newline at the end') },
  { label: 'mixed, small', content: Buffer.from(header(4, '\r\n') + 'crlf\r\nlf\nagain crlf\r\nlf\n') },
  { label: 'bare CR', content: Buffer.from(header(5, '\n') + 'bare\rCR\n\r\nend\r\r\n') },
  { label: 'LF, 300 KiB', content: Buffer.from(header(6, '\n') + lines(4500, '\n', 'lf')) },
  { label: 'CRLF, 300 KiB', content: Buffer.from(header(7, '\r\n') + lines(4500, '\r\n', 'crlf')) },
  { label: 'LF object with a CRLF split by the probe boundary', content: splitCrlf() },
];
/** CRLF-only for the first 100 KiB, LF after that: the probe cannot see it. */
const MIXED_LARGE = Buffer.from(header(9, '\r\n') + lines(1500, '\r\n', 'crlf') + lines(1500, '\n', 'lf'));

const key = (i: number): string => `${ALICE_PREFIX}m${String(i + 1).padStart(2, '0')}`;
const getsOf = (proxy: S3Proxy): string[] =>
  proxy.requests.filter((r) => r.method === 'GET' && !r.query.has('list-type')).map((r) => `${r.path} ${r.range ?? 'whole'}`);

describe('S3 sizes: LIST and STAT equal what RETR sends', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  before(async () => {
    ({ s3, proxy, gw } = await startS3Stack(async (s3) => {
      for (const [i, m] of MESSAGES.entries()) await s3.put(key(i), m.content);
    }));
  });
  after(() => stopS3Stack({ s3, proxy, gw }));

  it('announces exact CRLF sizes and RETR sends exactly those octets', async () => {
    proxy.clear();
    const c = await loggedIn(gw);
    const total = MESSAGES.reduce((sum, m) => sum + expectedSize(m.content), 0);
    assert.equal(await c.command('STAT'), `+OK ${MESSAGES.length} ${total}`);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      MESSAGES.map((m, i) => `${i + 1} ${expectedSize(m.content)}`),
    );
    // Every object was read whole once: the small ones into memory, the large ones streamed and counted.
    assert.deepEqual(getsOf(proxy).sort(), MESSAGES.map((_, i) => `/mail/${key(i)} whole`).sort());
    for (const [i, m] of MESSAGES.entries()) {
      const r = await c.multiline(`RETR ${i + 1}`);
      assert.equal(r.status, `+OK ${expectedSize(m.content)} octets`, m.label);
      const expected = expectedBody(m.content);
      assert.ok(r.body.equals(expected), `${m.label}: ${firstDifference(r.body, expected)}`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });

  it('a second session reads no object to announce sizes (cached by key and ETag)', async () => {
    proxy.clear();
    const c = await loggedIn(gw);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      MESSAGES.map((m, i) => `${i + 1} ${expectedSize(m.content)}`),
    );
    assert.deepEqual(getsOf(proxy), [], 'no GetObject');
    assert.equal(proxy.requests.filter((r) => r.query.get('list-type') === '2').length, 1, 'one ListObjectsV2');
    await c.quit();
  });

  it('a replaced object (new ETag) is measured again', async () => {
    const replaced = Buffer.from(header(1, '\n') + 'Replaced, and longer than before.\nSecond.\nThird.\n');
    await s3.put(key(0), replaced);
    proxy.clear();
    const c = await loggedIn(gw);
    // Newer now, so it may be listed last: find it by its UIDL (the relative key).
    const n = (await c.lines('UIDL')).lines.find((l) => l.endsWith(' m01'))?.split(' ')[0];
    const list = await c.lines('LIST');
    assert.ok(list.lines.includes(`${n} ${expectedSize(replaced)}`), JSON.stringify(list.lines));
    assert.deepEqual(getsOf(proxy), [`/mail/${key(0)} whole`]);
    const r = await c.multiline(`RETR ${n}`);
    assert.ok(r.body.equals(expectedBody(replaced)));
    await c.quit();
    await s3.put(key(0), MESSAGES[0]?.content as Buffer);
  });

  it('a large object with bare LFs only past the first 64 KiB is announced exactly in the first session', async () => {
    const k = `${ALICE_PREFIX}m99-mixed-large`;
    await s3.put(k, MIXED_LARGE);
    try {
      const c = await loggedIn(gw);
      const n = Number((await c.lines('UIDL')).lines.find((l) => l.endsWith(' m99-mixed-large'))?.split(' ')[0]);
      assert.notEqual(expectedSize(MIXED_LARGE), MIXED_LARGE.length);
      assert.equal((await c.lines('LIST')).lines[n - 1], `${n} ${expectedSize(MIXED_LARGE)}`);
      const r = await c.multiline(`RETR ${n}`);
      assert.equal(r.status, `+OK ${expectedSize(MIXED_LARGE)} octets`);
      assert.ok(r.body.equals(expectedBody(MIXED_LARGE)));
      await c.quit();
    } finally {
      await s3.remove(k);
    }
  });
});

describe('S3 sizes: probe (opt-in): a guess is never cached as exact, and RETR or a whole TOP corrects it', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  const k = `${ALICE_PREFIX}m99-mixed-large`;
  const probeOf = `/mail/${k} bytes=0-65535`;
  before(async () => {
    s3 = await startS3rver();
    proxy = await startS3Proxy(s3.port);
    gw = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep', sizes: 'probe' } });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  /** LIST of the one message, and the GETs it took. */
  async function listOnce(): Promise<{ line: string; gets: string[] }> {
    proxy.clear();
    const c = await loggedIn(gw);
    const line = (await c.lines('LIST')).lines[0] as string;
    await c.quit();
    return { line, gets: getsOf(proxy) };
  }

  it('announced by ContentLength from the probe (the documented risk), in every session until it is read whole', async () => {
    await s3.put(k, MIXED_LARGE);
    assert.deepEqual(await listOnce(), { line: `1 ${MIXED_LARGE.length}`, gets: [probeOf] });
    // The guess saves the next session its probe, but is still announced as what it is.
    assert.deepEqual(await listOnce(), { line: `1 ${MIXED_LARGE.length}`, gets: [] });
  });

  it('RETR sends the true message and its size replaces the guess', async () => {
    const logsBefore = gw.logs.length;
    const c = await loggedIn(gw);
    assert.equal((await c.lines('LIST')).lines[0], `1 ${MIXED_LARGE.length}`);
    const r = await c.multiline('RETR 1');
    assert.ok(r.body.equals(expectedBody(MIXED_LARGE)), 'RETR sends the true message');
    await c.quit();
    const warning = logLines(gw, logsBefore).find((l) => l.msg === 's3: the announced size was wrong; cached the streamed size');
    assert.deepEqual({ announced: warning?.announced, streamed: warning?.streamed }, { announced: MIXED_LARGE.length, streamed: expectedSize(MIXED_LARGE) });
    assert.equal((await listOnce()).line, `1 ${expectedSize(MIXED_LARGE)}`, 'the next session announces the true size');
    await s3.remove(k);
  });

  it('TOP n 99999999 that sent the whole message corrects the guess as RETR does (fetchmail downloads with TOP)', async () => {
    const other = Buffer.concat([MIXED_LARGE, Buffer.from('one more line\n')]);
    await s3.put(k, other);
    assert.equal((await listOnce()).line, `1 ${other.length}`, 'the guess');
    const c = await loggedIn(gw);
    const top = await c.multiline('TOP 1 99999999');
    assert.ok(top.body.equals(expectedBody(other)));
    // A TOP that stops early knows nothing of the rest: it changes nothing.
    await c.multiline('TOP 1 5');
    await c.quit();
    assert.deepEqual(await listOnce(), { line: `1 ${expectedSize(other)}`, gets: [] }, 'exact from then on, with no GET');
    await s3.remove(k);
  });

  it('a TOP that stops after a few lines leaves the guess a guess', async () => {
    // Another version (another ETag): the sizes cached above are not this object's.
    const third = Buffer.concat([MIXED_LARGE, Buffer.from('a third version\n')]);
    await s3.put(k, third);
    const c = await loggedIn(gw);
    await c.multiline('TOP 1 5');
    await c.quit();
    assert.equal((await listOnce()).line, `1 ${third.length}`);
    await s3.remove(k);
  });
});
