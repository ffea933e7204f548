/**
 * The login snapshot: 5,000 objects over five ListObjectsV2 pages, numbered in delivery order
 * (LastModified, then key); folder markers, empty objects, SES's setup notice and other
 * mailboxes' objects left out; `recent:` logins list only the recent window. Deleting all
 * 5,000 at QUIT takes five DeleteObjects requests of at most 1,000 keys.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { type Pop3TestClient } from '../helpers/pop3-client.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

const COUNT = 5000;
const DAY = 86_400_000;
const rel = (i: number): string => `msg-${String(i).padStart(5, '0')}`;
const body = (i: number): string => `Subject: bulk ${i}\nMessage-ID: <bulk-${i}@example.com>\n\nMessage number ${i}.\n`;

/** Reads `n` one-line replies after a pipelined burst. */
async function replies(c: Pop3TestClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await c.readLine(30_000));
  return out;
}

describe('S3 listing: 5,000 objects, delivery order, pagination, bulk delete', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  /** The relative keys in the order POP3 must number them. */
  let order: string[];
  before(async () => {
    s3 = await startS3rver();
    await s3.putMany(Array.from({ length: COUNT }, (_, i) => ({ key: ALICE_PREFIX + rel(i), body: body(i) })));
    // Delivery order is not key order: the last three keys are the oldest mail (60, 40, 20 days).
    for (let i = COUNT - 3; i < COUNT; i++) s3.backdate(ALICE_PREFIX + rel(i), new Date(Date.now() - (COUNT - i) * 20 * DAY));
    // Not messages, or not alice's.
    await s3.put(`${ALICE_PREFIX}folder/`, '');
    await s3.put(`${ALICE_PREFIX}empty`, '');
    await s3.put(`${ALICE_PREFIX}AMAZON_SES_SETUP_NOTIFICATION`, 'Amazon SES setup notification');
    await s3.put('inbound/alicia/msg-1', body(1));
    await s3.put('inbound/al/msg-1', body(1));
    const listed = (await s3.list(ALICE_PREFIX)).filter((o) => o.size > 0 && !o.key.endsWith('/') && !o.key.endsWith('NOTIFICATION'));
    order = listed.sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime()).map((o) => o.key.slice(ALICE_PREFIX.length));
    proxy = await startS3Proxy(s3.port);
    gw = await startS3Gateway(proxy.endpoint, {
      users: { alice: { password: 'alicepass' }, al: { password: 'alpass' } },
      // s3rver deletes slower as its folder grows: 1,000 keys can take seconds.
      tenant: { recent: { enabled: true, days: 30 }, requestTimeoutMs: 60_000 },
    });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  it('lists all 5,000 in pages of 1,000, oldest first, then by key', async () => {
    assert.equal(order.length, COUNT);
    assert.deepEqual(order.slice(0, 3), [rel(COUNT - 3), rel(COUNT - 2), rel(COUNT - 1)], 'the backdated ones first');
    proxy.clear();
    const c = await loggedIn(gw);
    const pages = proxy.requests.filter((r) => r.query.get('list-type') === '2');
    // 5,003 keys under the prefix (the folder marker, the empty object and the SES notice too).
    assert.equal(pages.length, 6, 'ListObjectsV2 pages of 1,000');
    assert.equal(pages.filter((p) => p.query.has('continuation-token')).length, 5);
    assert.ok(pages.every((p) => p.query.get('prefix') === ALICE_PREFIX));
    const total = order.reduce((n, r) => n + expectedSize(body(Number(r.slice(4)))), 0);
    // STAT measures 5,000 objects (one GET each from s3rver, 16 at a time): allow for a busy machine.
    assert.equal(await c.command('STAT', 120_000), `+OK ${COUNT} ${total}`);
    const uidl = await c.lines('UIDL');
    assert.deepEqual(
      uidl.lines,
      order.map((r, i) => `${i + 1} ${r}`),
    );
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      order.map((r, i) => `${i + 1} ${expectedSize(body(Number(r.slice(4))))}`),
    );
    for (const n of [1, 2500, COUNT]) {
      const r = await c.multiline(`RETR ${n}`);
      assert.ok(r.body.equals(expectedBody(body(Number((order[n - 1] as string).slice(4))))), `RETR ${n}`);
    }
    await c.quit();
  });

  it('a user whose name is a prefix of another sees only their own mail', async () => {
    const c = await loggedIn(gw, 'al', 'alpass');
    assert.deepEqual((await c.lines('UIDL')).lines, ['1 msg-1']);
    await c.quit();
  });

  it('a recent: login lists only the last 30 days', async () => {
    const c = await loggedIn(gw, 'recent:alice');
    assert.match(await c.command('STAT', 60_000), new RegExp(`^\\+OK ${COUNT - 2} `), 'the 60- and 40-day-old objects are left out, the 20-day-old one is in');
    await c.quit();
  });

  it('QUIT after DELE of all 5,000 deletes them in five DeleteObjects requests', async () => {
    const c = await loggedIn(gw);
    proxy.clear();
    const lines = Array.from({ length: COUNT }, (_, i) => `DELE ${i + 1}\r\n`).join('');
    c.send(lines);
    const answers = await replies(c, COUNT);
    assert.ok(
      answers.every((a) => a.startsWith('+OK')),
      answers.find((a) => !a.startsWith('+OK')),
    );
    assert.equal(await c.command('QUIT', 120_000), `+OK Logging out, ${COUNT} messages deleted.`);
    await c.closed();
    const deletes = proxy.requests.filter((r) => r.deleteKeys !== undefined);
    // The SDK may retry a batch (a reset keep-alive connection): count distinct batches.
    const batches = new Map(deletes.map((d) => [d.deleteKeys?.[0], d.deleteKeys?.length]));
    assert.deepEqual([...batches.values()], [1000, 1000, 1000, 1000, 1000]);
    assert.equal(new Set(deletes.flatMap((d) => d.deleteKeys ?? [])).size, COUNT, 'every key in exactly one batch');
    const left = (await s3.list('inbound/')).map((o) => o.key).sort();
    assert.deepEqual(
      left,
      [`${ALICE_PREFIX}AMAZON_SES_SETUP_NOTIFICATION`, `${ALICE_PREFIX}empty`, `${ALICE_PREFIX}folder/`, 'inbound/al/msg-1', 'inbound/alicia/msg-1'].sort(),
    );
  });
});
