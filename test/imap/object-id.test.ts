/**
 * uidlFormat auto with servers that have stable message ids: EMAILID (RFC 8474 OBJECTID) and
 * Gmail's X-GM-MSGID, through a stand-in proxy in front of the real Dovecot (see
 * helpers/object-id-proxy.ts). The UIDLs come from those ids and survive a UIDVALIDITY reset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uidlFromHandle } from '../../adapters/shared/uidl.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { listMailbox, putMessages, startImapGateway, taggedMessage, uidValidityOf } from '../helpers/imap-harness.js';
import { objectIdProxy, type ObjectIdFlavour, type ObjectIdProxy } from '../helpers/object-id-proxy.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

async function uidls(port: number): Promise<string[]> {
  const c = await Pop3TestClient.connect(port);
  await c.login('alice', 'alicepass');
  const u = await c.lines('UIDL');
  const top = await c.multiline('TOP 1 0');
  assert.match(top.body.toString(), /Subject: /, 'the proxy passes message data through untouched');
  await c.quit();
  return u.lines.map((l) => l.split(' ')[1] as string);
}

for (const flavour of ['objectid', 'gmail'] as const satisfies readonly ObjectIdFlavour[]) {
  describe(`IMAP UIDLs from ${flavour === 'objectid' ? 'EMAILID (OBJECTID)' : 'X-GM-MSGID (X-GM-EXT-1)'}`, () => {
    let dovecot: DovecotInstance;
    let proxy: ObjectIdProxy;
    let auto: TestGateway;
    let byUid: TestGateway;

    before(async () => {
      dovecot = await startDovecot({ protocols: ['imap'] });
      putMessages(
        dovecot,
        [1, 2, 3].map((i) => taggedMessage(`${flavour}-${i}`)),
      );
      proxy = await objectIdProxy(dovecot.imapPort, flavour);
      auto = await startImapGateway(proxy.port, { tenant: { uidlFormat: 'auto' } });
      byUid = await startImapGateway(proxy.port, { tenant: { uidlFormat: 'uid' } });
    });
    after(async () => {
      await auto?.stop();
      await byUid?.stop();
      await proxy?.close();
      await dovecot?.stop();
    });

    it('auto takes each UIDL from the server id; a UIDVALIDITY reset changes uid-format UIDLs but not these', async () => {
      const uids = (await listMailbox(dovecot)).map((m) => m.uid);
      const expected = uids.map((u) => uidlFromHandle(proxy.idFor(u)));
      assert.deepEqual(await uidls(auto.port), expected);
      const before = await uidls(byUid.port);

      const validity = await uidValidityOf(dovecot);
      await dovecot.doveadm(['mailbox', 'update', '--uid-validity', String(validity + 77n), '-u', 'alice', 'INBOX']);
      assert.deepEqual(await uidls(auto.port), expected, 'the same UIDLs after the reset: nothing is downloaded again');
      const after = await uidls(byUid.port);
      assert.ok(
        after.every((u, i) => u !== before[i]),
        `uid-format UIDLs all changed: ${before.join(',')} -> ${after.join(',')}`,
      );
    });
  });
}
