/** The login snapshot: every page in the store's order, sizes given or counted, UIDLs from ids. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crlf } from '../contract/suite.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { loggedIn } from '../helpers/tx-util.js';

const msg = (i: number): Buffer => Buffer.from(`Subject: ${i}\n\nbody ${i}\n`);

describe('REST listing', () => {
  let s: RestStack;
  before(async () => {
    // The store gives at most 3 items a page whatever is asked; the tenant asks for 4.
    s = await startRestStack({ store: { maxPage: 3, sizes: false }, tenant: { pageSize: 4 } });
  });
  after(() => stopRestStack(s));

  it('reads every page, keeps the store order, and asks for the page size configured', async () => {
    const seeded = s.store.seed(
      'alice',
      Array.from({ length: 10 }, (_, i) => msg(i)),
    );
    const before = s.store.calls.list;
    const c = await loggedIn(s.gw);
    assert.equal(s.store.calls.list - before, 4, '10 messages, 3 a page');
    assert.match(s.store.requests.find((r) => r.op === 'list')?.url ?? '', /limit=4/);
    const uidl = await c.lines('UIDL');
    assert.deepEqual(
      uidl.lines.map((l) => l.split(' ')[1]),
      seeded.map((m) => m.id),
    );
    await c.quit();
  });

  it('sizes left out are counted once (one GET each) and cached by id + ETag for the next session', async () => {
    const seeded = s.store.seed('alice', [msg(1), msg(2), msg(3)]);
    const gets = s.store.calls.get;
    const c = await loggedIn(s.gw);
    assert.equal(s.store.calls.get, gets, 'a login reads no message');
    assert.equal(await c.command('STAT'), `+OK 3 ${seeded.reduce((a, m) => a + crlf(m.raw).length, 0)}`);
    assert.equal(s.store.calls.get - gets, 3);
    await c.quit();
    const c2 = await loggedIn(s.gw);
    assert.match(await c2.command('STAT'), /^\+OK 3 /);
    assert.equal(s.store.calls.get - gets, 3, 'cached: no GET in the second session');
    await c2.quit();
  });

  it('sizes given by the store are announced without reading a message', async () => {
    s.store.opts = { ...s.store.opts, sizes: true };
    const seeded = s.store.seed('alice', [msg(7), Buffer.from('Subject: crlf\r\n\r\nx\r\n')]);
    const gets = s.store.calls.get;
    const c = await loggedIn(s.gw);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      seeded.map((m, i) => `${i + 1} ${crlf(m.raw).length}`),
    );
    assert.equal(s.store.calls.get, gets);
    await c.quit();
    s.store.opts = { ...s.store.opts, sizes: false };
  });

  it('an id that is not a valid unique-id is hashed (~ + base64url SHA-256); a valid one is used as is', async () => {
    s.store.seed('alice', [
      { raw: msg(1), id: 'plain-id.123' },
      { raw: msg(2), id: 'with space/and ünïcode' },
      { raw: msg(3), id: 'x'.repeat(71) },
    ]);
    const c = await loggedIn(s.gw);
    const ids = (await c.lines('UIDL')).lines.map((l) => l.split(' ')[1] as string);
    assert.equal(ids[0], 'plain-id.123');
    for (const u of ids.slice(1)) assert.match(u, /^~[A-Za-z0-9_-]{43}$/);
    // The odd ids are still addressable (percent-encoded in the path).
    assert.match((await c.multiline('RETR 2')).status, /^\+OK/);
    await c.quit();
  });
});
