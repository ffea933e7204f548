/**
 * deleteMode at QUIT: `delete` removes exactly the DELEd objects, `keep` nothing, `move:<prefix>`
 * copies them under the other prefix (same relative key, same bytes) and removes the originals.
 * A key S3 refuses to delete (a per-key <Error> in the DeleteObjects answer) makes QUIT answer
 * -ERR [SYS/TEMP] with the count, stays in the bucket, and the others are gone. A session that
 * ends without QUIT deletes nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, logLines, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

const REL = ['1-first', '2 with space', '3-Grüße-日本', 'sub/4-nested', '5-last'];
/** The UIDL rule: the relative key when printable and short, else "~" + base64url SHA-256. */
const uidlOf = (rel: string): string => (/^[\x21-\x7e]{1,70}$/.test(rel) ? rel : '~' + createHash('sha256').update(rel, 'utf8').digest('base64url'));
const content = (rel: string): Buffer => Buffer.from(`Subject: ${rel}\nMessage-ID: <${rel.replace(/\W/g, '')}@example.com>\n\nBody of ${rel}.\n`);

describe('S3 deleteMode at QUIT', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  const gateways = new Map<string, TestGateway>();
  before(async () => {
    s3 = await startS3rver();
    proxy = await startS3Proxy(s3.port);
    for (const mode of ['delete', 'keep', 'move:archive/{user}/']) gateways.set(mode, await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: mode } }));
  });
  after(async () => {
    for (const g of gateways.values()) await g.stop();
    await proxy?.stop();
    await s3?.stop();
  });
  beforeEach(async () => {
    for (const o of await s3.list('')) await s3.remove(o.key);
    for (const rel of REL) await s3.put(ALICE_PREFIX + rel, content(rel));
    proxy.refuseDeletes(undefined);
    proxy.clear();
  });

  const gw = (mode: string): TestGateway => gateways.get(mode) as TestGateway;
  const keys = async (prefix: string): Promise<string[]> => (await s3.list(prefix)).map((o) => o.key.slice(prefix.length)).sort();
  /** DELE the messages with these relative keys (found by their UIDLs), then QUIT. */
  async function deleteAndQuit(g: TestGateway, rels: readonly string[]): Promise<string> {
    const c = await loggedIn(g);
    const { lines } = await c.lines('UIDL');
    assert.equal(lines.length, REL.length);
    const msn = new Map(lines.map((l) => [l.split(' ')[1], l.split(' ')[0]]));
    for (const rel of rels) assert.match(await c.command(`DELE ${msn.get(uidlOf(rel))}`), /^\+OK/, rel);
    return c.quit();
  }

  it('delete: exactly the DELEd objects are gone', async () => {
    assert.equal(await deleteAndQuit(gw('delete'), ['1-first', '5-last']), '+OK Logging out, 2 messages deleted.');
    assert.deepEqual(await keys(ALICE_PREFIX), ['2 with space', '3-Grüße-日本', 'sub/4-nested']);
  });

  it('DeleteObjects carries Content-MD5, the MD5 of the body the server received (older MinIO and Ceph need it)', async () => {
    assert.match(await deleteAndQuit(gw('delete'), ['1-first', '3-Grüße-日本']), /^\+OK/);
    const deletes = proxy.requests.filter((r) => r.deleteKeys !== undefined);
    assert.equal(deletes.length, 1);
    const { headers, body } = deletes[0] as { headers: Record<string, unknown>; body: Buffer };
    assert.equal(headers['content-md5'], createHash('md5').update(body).digest('base64'));
    assert.deepEqual(
      Object.keys(headers).filter((h) => h.startsWith('x-amz-checksum-') || h.startsWith('x-amz-sdk-checksum-')),
      [],
      'the CRC32 headers are replaced',
    );
  });

  it('keep: QUIT says +OK and nothing is removed', async () => {
    assert.equal(await deleteAndQuit(gw('keep'), ['1-first', '5-last']), '+OK Logging out, 2 messages deleted.');
    assert.deepEqual(await keys(ALICE_PREFIX), [...REL].sort());
    assert.equal(proxy.requests.filter((r) => r.deleteKeys !== undefined).length, 0, 'no DeleteObjects sent');
  });

  it('move: the DELEd objects are copied under archive/alice/ byte for byte, then removed', async () => {
    const moved = ['2 with space', '3-Grüße-日本', 'sub/4-nested'];
    assert.match(await deleteAndQuit(gw('move:archive/{user}/'), moved), /^\+OK Logging out, 3 messages deleted\./);
    assert.deepEqual(await keys(ALICE_PREFIX), ['1-first', '5-last']);
    assert.deepEqual(await keys('archive/alice/'), [...moved].sort());
    for (const rel of moved) assert.ok((await s3.get(`archive/alice/${rel}`))?.equals(content(rel)), rel);
  });

  it('a key S3 refuses to delete: -ERR [SYS/TEMP] with the count, it stays, the others are gone and listed no more', async () => {
    proxy.refuseDeletes((key) => key.endsWith('3-Grüße-日本'));
    const logsBefore = gw('delete').logs.length;
    const answer = await deleteAndQuit(gw('delete'), ['1-first', '3-Grüße-日本', '5-last']);
    assert.equal(answer, '-ERR [SYS/TEMP] 1 of 3 messages could not be deleted; they will be listed again.');
    assert.deepEqual(await keys(ALICE_PREFIX), ['2 with space', '3-Grüße-日本', 'sub/4-nested']);
    const warn = logLines(gw('delete'), logsBefore).find((l) => l.outcome === 'partial-delete') as { failed?: { id: string; reason: string }[] } | undefined;
    // The id is the session's handle (the message's position); the reason names the key.
    assert.deepEqual(
      warn?.failed?.map((f) => f.reason),
      [`${ALICE_PREFIX}3-Grüße-日本: AccessDenied: Access Denied`],
    );
    proxy.refuseDeletes(undefined);
    const c = await loggedIn(gw('delete'));
    assert.equal((await c.lines('UIDL')).lines.length, 3, 'the refused one is listed again');
    await c.quit();
  });

  it('a key DeleteObjects answers SlowDown for (inside a 200) is sent again after growing waits, then deleted', async () => {
    let refusals = 0;
    proxy.refuseDeletes((key) => key.endsWith('5-last') && refusals++ < 2, 'SlowDown');
    assert.equal(await deleteAndQuit(gw('delete'), ['1-first', '5-last']), '+OK Logging out, 2 messages deleted.');
    assert.deepEqual(await keys(ALICE_PREFIX), ['2 with space', '3-Grüße-日本', 'sub/4-nested']);
    const deletes = proxy.requests.filter((r) => r.deleteKeys !== undefined);
    const last = `${ALICE_PREFIX}5-last`;
    assert.deepEqual(
      deletes.map((d) => d.deleteKeys),
      [[`${ALICE_PREFIX}1-first`, last], [last], [last]],
    );
    const gaps = deletes.slice(1).map((d, i) => d.at - (deletes[i] as { at: number }).at);
    // Half fixed, half random: 250-500 ms, then 500-1000 ms.
    assert.ok((gaps[0] as number) >= 250 && (gaps[1] as number) >= 500, `gaps ${gaps.join(', ')} ms`);
  });

  it('a key still answered InternalError after two more tries is reported as not deleted', async () => {
    proxy.refuseDeletes((key) => key.endsWith('5-last'), 'InternalError');
    const answer = await deleteAndQuit(gw('delete'), ['1-first', '5-last']);
    assert.equal(answer, '-ERR [SYS/TEMP] 1 of 2 messages could not be deleted; they will be listed again.');
    assert.deepEqual(await keys(ALICE_PREFIX), ['2 with space', '3-Grüße-日本', '5-last', 'sub/4-nested']);
    assert.equal(proxy.requests.filter((r) => r.deleteKeys?.includes(`${ALICE_PREFIX}5-last`)).length, 3, 'sent three times');
  });

  it('a per-key AccessDenied is not sent again', async () => {
    proxy.refuseDeletes((key) => key.endsWith('5-last'));
    assert.match(await deleteAndQuit(gw('delete'), ['5-last']), /^-ERR \[SYS\/TEMP\] 1 of 1 /);
    assert.equal(proxy.requests.filter((r) => r.deleteKeys !== undefined).length, 1);
  });

  it('move: a refused delete after the copy leaves the original (and its copy); nothing is lost', async () => {
    proxy.refuseDeletes((key) => key.endsWith('5-last'));
    const answer = await deleteAndQuit(gw('move:archive/{user}/'), ['1-first', '5-last']);
    assert.match(answer, /^-ERR \[SYS\/TEMP\] 1 of 2 /);
    assert.deepEqual(await keys(ALICE_PREFIX), ['2 with space', '3-Grüße-日本', '5-last', 'sub/4-nested']);
    assert.deepEqual(await keys('archive/alice/'), ['1-first', '5-last']);
  });

  it('a connection dropped after DELE deletes nothing', async () => {
    const c = await loggedIn(gw('delete'));
    assert.match(await c.command('DELE 1'), /^\+OK/);
    c.destroy();
    await waitForNoSessions(gw('delete'));
    assert.deepEqual(await keys(ALICE_PREFIX), [...REL].sort());
  });
});
