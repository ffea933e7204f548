/**
 * `connectionReuse`: an account's IMAP connection is kept a while after its POP3 session and
 * handed to its next session with the same credentials, which then opens no new connection and
 * still sees every change since (the folder is opened again). Counted on a proxy between the
 * gateway and a real Dovecot: connections accepted and still open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { configIssues } from '../helpers/config-issues.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { dovecotProcesses, dovecotSessions, eventually, listMailbox, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { countingProxy, type CountingProxy } from '../helpers/imap-net.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { sleep } from '../helpers/tx-util.js';

const USERS = ['alice', 'bob', 'carol'] as const;
const password = (u: string): string => `${u}-secret`;
const KEEP_SECONDS = 2;

interface Snapshot {
  readonly connection: string;
  readonly source: string;
}

describe('IMAP connectionReuse', () => {
  let dovecot: DovecotInstance;
  let proxy: CountingProxy;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: Object.fromEntries(USERS.map((u) => [u, password(u)])), mailMaxUseripConnections: 50 });
    for (const u of USERS) putMessages(dovecot, [taggedMessage(`${u}-1`), taggedMessage(`${u}-2`), taggedMessage(`${u}-3`)], u);
    proxy = await countingProxy(dovecot.imapPort);
    gw = await startImapGateway(proxy.port, { tenant: { connectionReuse: { seconds: KEEP_SECONDS, maxIdle: 2 } } });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await dovecot?.stop();
  });

  /** The last "imap: snapshot taken" line's connection (new/reused) and source (full/delta/cache). */
  const lastSnapshot = (): Snapshot => {
    const line = gw.logs.filter((l) => l.includes('imap: snapshot taken')).at(-1);
    assert.ok(line !== undefined, 'a snapshot was logged');
    return JSON.parse(line) as Snapshot;
  };
  /** Login, STAT, UIDL, optional DELEs, QUIT; the STAT answer and UIDLs. */
  const session = async (user: string, dele: readonly number[] = []): Promise<{ stat: string; uidls: string[]; quit: string }> => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login(user, password(user));
    const stat = await c.command('STAT');
    const uidls = (await c.lines('UIDL')).lines.map((l) => l.split(' ')[1] as string);
    for (const n of dele) assert.match(await c.command(`DELE ${n}`), /^\+OK/);
    const quit = await c.quit();
    return { stat, uidls, quit };
  };
  const keptConnections = (n: number): Promise<number> =>
    eventually(
      () => proxy.open,
      (open) => open === n,
      `${n} IMAP connections open`,
    );

  it('the next session of the account reuses the kept connection, and sees new mail and its own deletions', async () => {
    const first = await session('alice');
    assert.deepEqual(lastSnapshot(), { ...lastSnapshot(), connection: 'new', source: 'full' });
    const accepted = proxy.accepted;
    await keptConnections(1);

    const unchanged = await session('alice');
    assert.equal(proxy.accepted, accepted, 'no new IMAP connection');
    assert.deepEqual(lastSnapshot(), { ...lastSnapshot(), connection: 'reused', source: 'cache' });
    assert.deepEqual(unchanged.uidls, first.uidls);

    putMessages(dovecot, [taggedMessage('alice-4')], 'alice');
    const grown = await session('alice', [1]);
    assert.deepEqual(lastSnapshot(), { ...lastSnapshot(), connection: 'reused', source: 'delta' });
    assert.equal(grown.uidls.length, 4, 'mail delivered while the connection was kept is listed');
    assert.match(grown.quit, /^\+OK Logging out, 1 messages deleted/);
    assert.equal((await listMailbox(dovecot, 'INBOX', 'alice')).length, 3, 'the reused connection deleted in Dovecot');

    const after = await session('alice');
    assert.deepEqual(after.uidls, grown.uidls.slice(1), 'the next session sees the deletion');
    assert.equal(proxy.accepted, accepted, 'still the one connection');
    assert.equal(await dovecotSessions(dovecot, 'alice'), 1);
  });

  it('other credentials are never given the kept connection: a wrong password is refused by the backend, the right one reuses', async () => {
    await session('bob');
    await keptConnections(2);
    const accepted = proxy.accepted;
    const c = await Pop3TestClient.connect(gw.port);
    assert.equal(await c.command('USER bob'), '+OK');
    assert.match(await c.command('PASS not-bobs'), /^-ERR \[AUTH\] /);
    await c.quit();
    assert.equal(proxy.accepted, accepted + 1, 'the wrong password went to Dovecot on a connection of its own');
    await session('bob');
    assert.equal(lastSnapshot().connection, 'reused', 'the kept connection is still there for the right password');
    assert.equal(proxy.accepted, accepted + 1);
  });

  it('keeps at most maxIdle per tenant, closing the one idle longest; each expires after `seconds`', async () => {
    // Kept now: alice, bob (in that order). carol's pushes alice's out.
    await session('carol');
    await keptConnections(2);
    const accepted = proxy.accepted;
    await session('bob');
    assert.equal(lastSnapshot().connection, 'reused');
    await session('alice');
    assert.equal(lastSnapshot().connection, 'new', "alice's connection was closed for carol's");
    assert.equal(proxy.accepted, accepted + 1);
    await keptConnections(2);

    await sleep(KEEP_SECONDS * 1000 + 200);
    await keptConnections(0);
    for (const u of USERS) assert.equal(await dovecotSessions(dovecot, u), 0, `${u}: no IMAP session left in Dovecot`);
    await session('alice');
    assert.equal(lastSnapshot().connection, 'new', 'an expired connection is not reused');
  });

  it('stopping the gateway logs the kept connections out', async () => {
    const other = await startImapGateway(proxy.port, { tenant: { connectionReuse: { seconds: 60 } } });
    const c = await Pop3TestClient.connect(other.port);
    await c.login('bob', password('bob'));
    await c.quit();
    // bob's only IMAP session now is the one this gateway keeps (the other gateway's expired).
    assert.equal(await dovecotSessions(dovecot, 'bob'), 1);
    await other.stop();
    await eventually(
      () => dovecotSessions(dovecot, 'bob'),
      (n) => n === 0,
      'the kept connection logged out at stop',
      1000,
    );
  });
  it('a kept connection the server closed meanwhile: the next session connects anew', async () => {
    await session('carol');
    await keptConnections(1);
    // carol's kept connection is the only one: its imap process dies (as on a Dovecot restart).
    // Last: Dovecot then throttles new imap processes for a while.
    const imapProcesses = dovecotProcesses(dovecot, 'imap');
    assert.equal(imapProcesses.length, 1);
    for (const pid of imapProcesses) process.kill(pid, 'SIGKILL');
    await keptConnections(0);
    const accepted = proxy.accepted;
    const again = await session('carol');
    assert.match(again.stat, /^\+OK 3 /);
    assert.equal(lastSnapshot().connection, 'new');
    assert.equal(proxy.accepted, accepted + 1);
  });
});

describe('IMAP connectionReuse settings', () => {
  const config = (reuse: string): string =>
    `listeners: [{ port: 1110 }]\ntenants:\n  corp: { adapter: imap, host: 127.0.0.1, tls: none${reuse === '' ? '' : `, connectionReuse: ${reuse}`} }\n`;
  it('is off unless set; seconds and maxIdle are bounded whole numbers', () => {
    const off = parseConfig(config(''), '/etc/popgate').tenants.corp;
    assert.deepEqual(off?.adapter === 'imap' && off.connectionReuse, { seconds: 0, maxIdle: 100 });
    const on = parseConfig(config('{ seconds: 120 }'), '/etc/popgate').tenants.corp;
    assert.deepEqual(on?.adapter === 'imap' && on.connectionReuse, { seconds: 120, maxIdle: 100 });
    assert.match(configIssues(config('{ seconds: -1 }')).join('\n'), /^tenants\.corp\.connectionReuse\.seconds: /m);
    assert.match(configIssues(config('{ seconds: 60, maxIdle: 0 }')).join('\n'), /^tenants\.corp\.connectionReuse\.maxIdle: /m);
    assert.match(configIssues(config('{ seconds: 60, keep: true }')).join('\n'), /^tenants\.corp\.connectionReuse: .*keep/m);
  });
});
