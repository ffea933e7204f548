/**
 * Awkward keys (spaces, `,=:+&?%#`, Unicode, over 1,000 octets spread over several path segments,
 * since s3rver keeps each segment as a file name of at most 255 octets) are listed, retrieved
 * byte for byte and given RFC 1939 unique-ids: the key (relative to the mailbox prefix) when it
 * is 1-70 printable octets, else "~" + base64url SHA-256. The same UIDLs after a gateway restart.
 * TOP reads a range: the header only for `TOP n 0` of a large object, more when needed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import type { S3Proxy } from '../helpers/s3-proxy.js';
import { startS3Stack, stopS3Stack } from '../helpers/s3-stack.js';
import { ALICE_PREFIX, startS3Gateway } from '../helpers/s3-gateway.js';
import type { S3rver } from '../helpers/s3rver.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

const UIDL_RULE = /^[\x21-\x7e]{1,70}$/;
const hashed = (relKey: string): string => '~' + createHash('sha256').update(relKey, 'utf8').digest('base64url');

/** Over 1,000 octets of key below the prefix: five 200-octet segments (s3rver keeps each as a file name). */
const LONG = Array.from({ length: 5 }, (_, i) => `${i}` + 'L'.repeat(199)).join('/');

const RELATIVE_KEYS = [
  'plain-0001.eml',
  'with space.eml',
  'punct,=:+&?%#!.eml',
  'unicode-Grüße-日本語-📬.eml',
  LONG,
  'date/2026/11/28/nested-id',
  '~starts-with-tilde',
  'x'.repeat(71),
];

const content = (i: number, rel: string): Buffer => Buffer.from(`Subject: key ${i}\nX-Key: ${rel.slice(0, 60)}\n\nBody of message ${i}.\n.dot line\n`);

describe('S3 keys, UIDL and TOP', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  before(async () => {
    ({ s3, proxy, gw } = await startS3Stack(async (s3) => {
      for (const [i, rel] of RELATIVE_KEYS.entries()) await s3.put(ALICE_PREFIX + rel, content(i, rel));
    }));
  });
  after(() => stopS3Stack({ s3, proxy, gw }));

  it('the long key really is over 1,000 octets (relative to the prefix, and whole)', () => {
    assert.ok(Buffer.byteLength(LONG) >= 1000, String(Buffer.byteLength(LONG)));
    assert.ok(Buffer.byteLength(ALICE_PREFIX + LONG) >= 1000);
  });

  it('lists every key in delivery order and retrieves each byte for byte', async () => {
    const listed = await s3.list(ALICE_PREFIX);
    const order = [...listed].sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime()).map((o) => o.key.slice(ALICE_PREFIX.length));
    const c = await loggedIn(gw);
    assert.equal(await c.command('STAT'), `+OK ${RELATIVE_KEYS.length} ${RELATIVE_KEYS.reduce((n, rel, i) => n + expectedSize(content(i, rel)), 0)}`);
    for (const [n, rel] of order.entries()) {
      const i = RELATIVE_KEYS.indexOf(rel);
      const r = await c.multiline(`RETR ${n + 1}`);
      assert.match(r.status, /^\+OK/, rel);
      assert.ok(r.body.equals(expectedBody(content(i, rel))), `key ${JSON.stringify(rel.slice(0, 40))}`);
    }
    await c.quit();
  });

  it('UIDLs are the relative key when usable, else a hash; all valid and distinct; stable across a gateway restart', async () => {
    const c = await loggedIn(gw);
    const { lines } = await c.lines('UIDL');
    await c.quit();
    const uidls = lines.map((l) => l.split(' ')[1] as string);
    for (const u of uidls) assert.match(u, UIDL_RULE);
    assert.equal(new Set(uidls).size, RELATIVE_KEYS.length);
    const expected = new Set(RELATIVE_KEYS.map((rel) => (UIDL_RULE.test(rel) && !rel.startsWith('~') ? rel : hashed(rel))));
    assert.deepEqual(new Set(uidls), expected);
    assert.ok(uidls.includes('plain-0001.eml') && uidls.includes('date/2026/11/28/nested-id') && uidls.includes('punct,=:+&?%#!.eml'));
    assert.ok(uidls.includes(hashed('~starts-with-tilde')), 'a key starting with ~ is hashed (cannot collide with a hash)');

    const again = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep' } });
    try {
      proxy.clear();
      const c2 = await loggedIn(again);
      assert.deepEqual((await c2.lines('UIDL')).lines, lines, 'the same numbering and UIDLs from a new gateway');
      await c2.quit();
      // A fresh gateway has no size cached, and a UIDL-only session still reads no object.
      assert.deepEqual(
        proxy.requests.map((r) => (r.query.get('list-type') === '2' ? 'list' : `${r.method} ${r.path}`)),
        ['list'],
      );
    } finally {
      await again.stop();
    }
  });
});

describe('S3 TOP reads a range', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  const head = 'From: a@example.com\r\nSubject: big\r\nMessage-ID: <top@example.com>\r\n\r\n';
  const bodyLines = Array.from({ length: 20_000 }, (_, i) => (i % 50 === 0 ? `.dot ${i}` : `body line ${String(i).padStart(6, '0')} ${'z'.repeat(40)}`));
  const big = Buffer.from(head + bodyLines.join('\r\n') + '\r\n');
  const small = Buffer.from('Subject: small\n\nline 1\nline 2\nline 3\n');
  before(async () => {
    ({ s3, proxy, gw } = await startS3Stack(async (s3) => {
      await s3.put(`${ALICE_PREFIX}1-big`, big);
      await s3.put(`${ALICE_PREFIX}2-small`, small);
    }));
  });
  after(() => stopS3Stack({ s3, proxy, gw }));

  const gets = (): string[] =>
    proxy.requests.filter((r) => r.method === 'GET' && !r.query.has('list-type')).map((r) => `${r.path.split('/').pop()} ${r.range ?? 'whole'}`);
  const topOf = (content: Buffer, n: number): Buffer => {
    const text = content.toString('latin1').replace(/\r?\n/g, '\r\n');
    const end = text.indexOf('\r\n\r\n') + 4;
    const rest = text.slice(end).split('\r\n').slice(0, n);
    return Buffer.from(text.slice(0, end) + rest.map((l) => l + '\r\n').join(''), 'latin1');
  };

  it('TOP n 0 of a 1.3 MB object reads only its first 32 KiB', async () => {
    assert.ok(big.length > 1_000_000);
    const c = await loggedIn(gw);
    proxy.clear();
    const r = await c.multiline('TOP 1 0');
    assert.match(r.status, /^\+OK/);
    assert.equal(r.body.toString('latin1'), head);
    assert.deepEqual(gets(), ['1-big bytes=0-32767']);
    proxy.clear();
    const t = await c.multiline('TOP 1 10');
    assert.ok(t.body.equals(topOf(big, 10)));
    assert.deepEqual(gets(), ['1-big bytes=0-32767'], 'ten lines fit in the first range');
    await c.quit();
  });

  it('TOP beyond the first range reads the rest in one more request, from where the first stopped', async () => {
    const c = await loggedIn(gw);
    proxy.clear();
    const r = await c.multiline('TOP 1 2000');
    assert.ok(r.body.equals(topOf(big, 2000)), `got ${r.body.length} octets`);
    assert.deepEqual(gets(), ['1-big bytes=0-32767', '1-big bytes=32768-']);
    const all = await c.multiline('TOP 1 99999999');
    assert.ok(all.body.equals(expectedBody(big)), 'TOP n 99999999 is the whole message');
    assert.match(await c.command('NOOP'), /^\+OK/, 'the session goes on');
    await c.quit();
  });

  it('TOP of a small object reads it whole, in one request', async () => {
    const c = await loggedIn(gw);
    proxy.clear();
    const r = await c.multiline('TOP 2 1');
    assert.equal(r.body.toString('latin1'), 'Subject: small\r\n\r\nline 1\r\n');
    assert.deepEqual(gets(), ['2-small whole']);
    await c.quit();
  });
});
