import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

/** The `source` of the last "imap: snapshot taken" log line. */
function lastSnapshotSource(gw: TestGateway): string | undefined {
  const line = gw.logs.filter((l) => l.includes('imap: snapshot taken')).at(-1);
  return line === undefined ? undefined : (JSON.parse(line) as { source?: string }).source;
}

async function session(gw: TestGateway): Promise<{ stat: string; uidls: string[]; bodies: Buffer[] }> {
  const c = await Pop3TestClient.connect(gw.port);
  await c.login('alice', 'alicepass');
  const stat = await c.command('STAT');
  const uidls = (await c.lines('UIDL')).lines.map((l) => l.split(' ')[1] as string);
  const bodies: Buffer[] = [];
  for (let i = 1; i <= uidls.length; i++) bodies.push((await c.multiline(`RETR ${i}`)).body);
  await c.quit();
  return { stat, uidls, bodies };
}

describe('IMAP snapshot cache (UIDVALIDITY + HIGHESTMODSEQ)', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    for (let i = 1; i <= 4; i++) dovecot.deliver('alice', sampleMessage(i));
    gw = await startTestGateway({ users: {}, tenantConfig: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' } });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('takes a full snapshot first, then reuses it while the mailbox is unchanged', async () => {
    const first = await session(gw);
    assert.equal(lastSnapshotSource(gw), 'full');
    const second = await session(gw);
    assert.equal(lastSnapshotSource(gw), 'cache');
    assert.deepEqual(second, first);
  });

  it('after new mail and an expunge by another client, fetches only what changed and stays exact', async () => {
    const before = await session(gw);
    await dovecot.doveadm(['expunge', '-u', 'alice', 'mailbox', 'INBOX', 'uid', '2']);
    dovecot.deliver('alice', sampleMessage(5));
    const after = await session(gw);
    assert.equal(lastSnapshotSource(gw), 'delta');
    assert.deepEqual(after.uidls, [before.uidls[0], before.uidls[2], before.uidls[3], after.uidls[3]]);
    assert.notEqual(after.uidls[3], undefined);
    const expected = [1, 3, 4, 5].map((i) => toCrlf(sampleMessage(i)));
    assert.deepEqual(after.bodies, expected);
    assert.equal(after.stat, `+OK 4 ${expected.reduce((n, b) => n + b.length, 0)}`);
  });
});
