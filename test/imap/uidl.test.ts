/**
 * UIDLs of IMAP messages: stable across sessions and gateway restarts, `uid` is
 * `<UIDVALIDITY>.<UID>`, `dovecot` is exactly what Dovecot's own POP3 server says for the same
 * mailbox, and a UIDVALIDITY change gives new UIDLs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { listMailbox, putMessages, startImapGateway, taggedMessage, uidValidityOf } from '../helpers/imap-harness.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { loggedIn } from '../helpers/tx-util.js';

type Format = 'auto' | 'uid' | 'dovecot';

/** The UIDL listing of one session (lines "n uidl"). */
async function uidlLines(port: number): Promise<string[]> {
  const c = await Pop3TestClient.connect(port);
  await c.login('alice', 'alicepass');
  const r = await c.lines('UIDL');
  assert.match(r.status, /^\+OK/);
  assert.match(await c.quit(), /^\+OK/);
  return r.lines;
}

const ids = (lines: readonly string[]): string[] => lines.map((l) => l.split(' ')[1] as string);

describe('IMAP UIDLs', () => {
  let dovecot: DovecotInstance;
  const gws = new Map<Format, TestGateway>();
  const gw = (f: Format): TestGateway => gws.get(f) as TestGateway;
  before(async () => {
    // Both protocols: Dovecot's own POP3 server is the reference for the `dovecot` format.
    dovecot = await startDovecot({ protocols: ['imap', 'pop3'] });
    putMessages(
      dovecot,
      [1, 2, 3, 4, 5].map((i) => taggedMessage(`uidl-${i}`)),
    );
    for (const f of ['auto', 'uid', 'dovecot'] as const) gws.set(f, await startImapGateway(dovecot.imapPort, { tenant: { uidlFormat: f } }));
  });
  after(async () => {
    for (const g of gws.values()) await g.stop();
    await dovecot?.stop();
  });

  it('are valid, unique and the same in every session and after a gateway restart', async () => {
    const a = await uidlLines(gw('auto').port);
    assert.equal(a.length, 5);
    a.forEach((l, i) => assert.match(l, new RegExp(`^${i + 1} [\\x21-\\x7e]{1,70}$`)));
    assert.equal(new Set(ids(a)).size, 5);
    assert.deepEqual(await uidlLines(gw('auto').port), a);
    const restarted = await startImapGateway(dovecot.imapPort);
    try {
      assert.deepEqual(await uidlLines(restarted.port), a, 'a new gateway process gives the same UIDLs');
    } finally {
      await restarted.stop();
    }
  });

  it("'uid' is <UIDVALIDITY>.<UID> (and 'auto' is the same on a server without OBJECTID)", async () => {
    const validity = await uidValidityOf(dovecot);
    const uids = (await listMailbox(dovecot)).map((m) => m.uid);
    const expected = uids.map((u, i) => `${i + 1} ${validity}.${u}`);
    assert.deepEqual(await uidlLines(gw('uid').port), expected);
    assert.deepEqual(await uidlLines(gw('auto').port), expected);
  });

  it("'dovecot' equals the UIDL listing of Dovecot's own POP3 server for the same mailbox", async () => {
    // The reference runs with Dovecot's default pop3_uidl_format (%08Xu%08Xv): nothing overrides it.
    assert.doesNotMatch(readFileSync(dovecot.configPath, 'utf8'), /pop3_uidl_format/);
    const reference = await uidlLines(dovecot.pop3Port);
    assert.equal(reference.length, 5);
    // What Dovecot 2.3 really sends for %08Xu%08Xv: UID and UIDVALIDITY as 8 hex digits each, in
    // lower case (its %X does not upper-case).
    const validity = await uidValidityOf(dovecot);
    const hex = (n: bigint | number): string => n.toString(16).padStart(8, '0');
    const uids = (await listMailbox(dovecot)).map((m) => m.uid);
    assert.deepEqual(
      ids(reference),
      uids.map((u) => hex(u) + hex(validity)),
      'Dovecot’s own UIDLs',
    );
    assert.deepEqual(await uidlLines(gw('dovecot').port), reference, 'popgate (uidlFormat: dovecot) vs Dovecot POP3');
  });

  it('keep their values for the remaining messages after some were deleted, and still match Dovecot', async () => {
    const before = await uidlLines(gw('dovecot').port);
    const c = await loggedIn(gw('dovecot'));
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.match(await c.command('DELE 4'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    const after = await uidlLines(gw('dovecot').port);
    assert.deepEqual(
      ids(after),
      [0, 2, 4].map((i) => ids(before)[i]),
    );
    for (const f of ['uid', 'auto'] as const) assert.equal((await uidlLines(gw(f).port)).length, 3);
    assert.deepEqual(after, await uidlLines(dovecot.pop3Port), 'popgate (uidlFormat: dovecot) vs Dovecot POP3');
  });

  it('change in every format after a UIDVALIDITY change; dovecot still matches Dovecot’s POP3', async () => {
    const before = new Map<Format, string[]>();
    for (const f of gws.keys()) before.set(f, await uidlLines(gw(f).port));
    const oldValidity = await uidValidityOf(dovecot);
    const newValidity = oldValidity + 1000n;
    await dovecot.doveadm(['mailbox', 'update', '--uid-validity', String(newValidity), '-u', 'alice', 'INBOX']);
    assert.equal(await uidValidityOf(dovecot), newValidity, 'doveadm changed the UIDVALIDITY');

    for (const f of gws.keys()) {
      const after = await uidlLines(gw(f).port);
      const old = before.get(f) as string[];
      assert.equal(after.length, old.length, f);
      const oldIds = new Set(ids(old));
      assert.ok(
        ids(after).every((id) => !oldIds.has(id)),
        `${f}: every UIDL changed: before ${old.join(', ')}; after ${after.join(', ')}`,
      );
    }
    const uids = (await listMailbox(dovecot)).map((m) => m.uid);
    assert.deepEqual(
      await uidlLines(gw('uid').port),
      uids.map((u, i) => `${i + 1} ${newValidity}.${u}`),
    );
    assert.deepEqual(await uidlLines(gw('dovecot').port), await uidlLines(dovecot.pop3Port), 'popgate (uidlFormat: dovecot) vs Dovecot POP3');
  });
});
