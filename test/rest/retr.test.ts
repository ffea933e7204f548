/** RETR and TOP through the REST adapter: exact bytes, ranged TOP, a message gone mid-session. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crlf } from '../contract/suite.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { loggedIn } from '../helpers/tx-util.js';

/** A 100 KiB LF-only message (past the 32 KiB first range), with dot lines. */
const BIG = Buffer.from(`Subject: big\nX-Long: ${'h'.repeat(40_000)}\n\n${'.dot line\nplain line\n'.repeat(5000)}`);

describe('REST RETR and TOP', () => {
  let s: RestStack;
  before(async () => {
    s = await startRestStack({ store: { sizes: false } });
  });
  after(() => stopRestStack(s));

  it('RETR of an LF-only message: the CRLF bytes, dot-stuffing undone, size as announced', async () => {
    s.store.seed('alice', [BIG]);
    const c = await loggedIn(s.gw);
    const r = await c.multiline('RETR 1');
    assert.equal(r.status, `+OK ${crlf(BIG).length} octets`);
    assert.ok(r.body.equals(crlf(BIG)));
    await c.quit();
  });

  it('TOP reads the first 32 KiB by Range, then streams the rest from there when the header is longer', async () => {
    s.store.seed('alice', [BIG, Buffer.from('Subject: small\n\n1\n2\n3\n')]);
    const from = s.store.requests.length;
    const c = await loggedIn(s.gw);
    const top = await c.multiline('TOP 1 2');
    assert.ok(top.body.equals(crlf(Buffer.from(`Subject: big\nX-Long: ${'h'.repeat(40_000)}\n\n.dot line\nplain line\n`))));
    const small = await c.multiline('TOP 2 1');
    assert.equal(small.body.toString(), 'Subject: small\r\n\r\n1\r\n');
    const ranges = s.store.requests
      .slice(from)
      .filter((r) => r.op === 'get')
      .map((r) => r.headers.range);
    assert.deepEqual(ranges, ['bytes=0-32767', 'bytes=32768-', 'bytes=0-32767']);
    await c.quit();
  });

  it('a store that ignores Range: TOP is still exact (the whole answer is cut)', async () => {
    s.store.seed('alice', [BIG]);
    s.store.ignoreRange = true;
    const c = await loggedIn(s.gw);
    const top = await c.multiline('TOP 1 0');
    assert.ok(top.body.equals(crlf(Buffer.from(`Subject: big\nX-Long: ${'h'.repeat(40_000)}\n\n`))));
    await c.quit();
    s.store.ignoreRange = false;
  });

  it('a message removed after the listing: -ERR for it (404), the others are served, QUIT works', async () => {
    const seeded = s.store.seed('alice', [Buffer.from('Subject: 1\n\n1\n'), Buffer.from('Subject: 2\n\n2\n'), Buffer.from('Subject: 3\n\n3\n')]);
    const c = await loggedIn(s.gw);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    s.store.remove('alice', seeded[1]?.id as string);
    assert.equal(await c.command('RETR 2'), '-ERR Message was removed by another client.');
    assert.match(await c.command('TOP 2 0'), /^-ERR/);
    assert.equal((await c.multiline('RETR 3')).body.toString(), 'Subject: 3\r\n\r\n3\r\n');
    assert.match(await c.quit(), /^\+OK/);
  });

  it('a message replaced after the listing (its ETag changed): If-Match makes it "removed", not silently different', async () => {
    const [m] = s.store.seed('alice', [Buffer.from('Subject: v1\n\nold\n')]);
    const c = await loggedIn(s.gw);
    assert.match(await c.command('UIDL 1'), /^\+OK/);
    s.store.seed('alice', [{ raw: Buffer.from('Subject: v2\n\nnew!\n'), id: m?.id as string }]);
    assert.equal(await c.command('RETR 1'), '-ERR Message was removed by another client.');
    await c.quit();
  });
});
