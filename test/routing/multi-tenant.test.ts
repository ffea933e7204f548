/**
 * One gateway, several tenants on two adapters (Maildir, and IMAP to a real Dovecot): every
 * login-name form reaches its own mailbox, bad names and strangers all get the same answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeImap, openImap } from '../helpers/imap-harness.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startMultiTenantGateway, taggedBody, type MultiTenantGateway } from '../helpers/tenants.js';

const DELAY_MS = 300;
const DAY_MS = 86_400_000;

describe('multi-tenant routing: Maildir and IMAP tenants in one gateway', () => {
  let dovecot: DovecotInstance;
  let gw: MultiTenantGateway;

  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: { alice: 'alicepass' } });
    dovecot.deliver('alice', taggedBody('imap', 'alice'));
    const old = await openImap(dovecot);
    try {
      // Recent mode lists by arrival: this one arrived (INTERNALDATE) 60 days ago.
      await old.append('INBOX', taggedBody('imap', 'alice-old'), [], new Date(Date.now() - 60 * DAY_MS));
    } finally {
      await closeImap(old);
    }
    gw = await startMultiTenantGateway({
      defaultTenant: 'home',
      maildir: {
        home: { users: { alice: 'alicepw', 'john+plain.test': 'homepw', 'kim@example.org': 'kimpw' } },
        shop: { users: { john: 'johnpw' }, settings: { domains: ['example.com', 'bücher.de'], separators: ['@', '%', '+'] } },
        plain: { users: { 'john+work': 'workpw' }, settings: { domains: ['plain.test'] } },
        org: { users: { 'kim@sales.example.org': 'orgpw' }, settings: { domains: ['*.example.org'], userName: 'full' } },
      },
      raw: { imap: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', domains: ['imap.test'], recent: { enabled: true } } },
      config: { limits: { authFailureDelayMs: DELAY_MS, maxBadCommands: 100 } },
    });
    gw.deliverTagged('home', 'alice');
    gw.deliverTagged('home', 'john+plain.test');
    gw.deliverTagged('home', 'kim@example.org');
    gw.deliverTagged('shop', 'john');
    gw.deliverTagged('plain', 'john+work');
    gw.deliverTagged('org', 'kim@sales.example.org');
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  /** Logs in with USER/PASS and returns the Subject lines of every listed message. */
  async function subjects(login: string, password: string): Promise<string[]> {
    const c = await Pop3TestClient.connect(gw.port);
    try {
      assert.equal(await c.command(`USER ${login}`), '+OK');
      const pass = await c.command(`PASS ${password}`);
      assert.match(pass, /^\+OK/, `${login}: ${pass}`);
      const list = await c.lines('LIST');
      const found: string[] = [];
      for (let n = 1; n <= list.lines.length; n++) {
        const top = await c.multiline(`TOP ${n} 0`);
        found.push(/^Subject: (.*)$/m.exec(top.body.toString('utf8'))?.[1]?.trim() ?? '?');
      }
      await c.quit();
      return found.sort();
    } finally {
      c.destroy();
    }
  }

  it('john@example.com, john%example.com and john+example.com all reach the shop tenant user john', async () => {
    for (const login of ['john@example.com', 'john%example.com', 'john+example.com', 'john@EXAMPLE.Com']) {
      assert.deepEqual(await subjects(login, 'johnpw'), ['for john in shop'], login);
    }
  });

  it('an internationalised domain matches in Unicode and in A-label form (UTF-8 login names)', async () => {
    assert.deepEqual(await subjects('john@bücher.de', 'johnpw'), ['for john in shop']);
    assert.deepEqual(await subjects('john@xn--bcher-kva.de', 'johnpw'), ['for john in shop']);
  });

  it('where + is off, it stays part of the name: john+work@plain.test is user john+work; john+plain.test is a default-tenant user', async () => {
    assert.deepEqual(await subjects('john+work@plain.test', 'workpw'), ['for john+work in plain']);
    assert.deepEqual(await subjects('john+plain.test', 'homepw'), ['for john+plain.test in home']);
  });

  it('a wildcard domain routes every subdomain (userName: full); the bare parent domain falls to the default tenant', async () => {
    assert.deepEqual(await subjects('kim@sales.example.org', 'orgpw'), ['for kim@sales.example.org in org']);
    assert.deepEqual(await subjects('kim@example.org', 'kimpw'), ['for kim@example.org in home']);
  });

  it('the same local name in two tenants is two mailboxes with two locks: alice (Maildir) and alice@imap.test (Dovecot) at once', async () => {
    const a = await Pop3TestClient.connect(gw.port);
    const b = await Pop3TestClient.connect(gw.port);
    try {
      await a.login('alice', 'alicepw');
      await b.login('alice@imap.test', 'alicepass');
      assert.match(await a.command('STAT'), /^\+OK 1 /);
      assert.match(await b.command('STAT'), /^\+OK 2 /);
      const top = await b.multiline('TOP 1 0');
      assert.match(top.body.toString(), /Subject: for alice in imap|Subject: for alice-old in imap/);
      assert.match(await a.quit(), /^\+OK/);
      assert.match(await b.quit(), /^\+OK/);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('recent:alice@imap.test lists only mail that arrived in the last 30 days, with the same UIDLs as a normal session', async () => {
    assert.deepEqual(await subjects('recent:alice@imap.test', 'alicepass'), ['for alice in imap']);
    assert.deepEqual(await subjects('alice@imap.test', 'alicepass'), ['for alice in imap', 'for alice-old in imap']);
    const uidlOf = async (login: string): Promise<string[]> => {
      const c = await Pop3TestClient.connect(gw.port);
      await c.login(login, 'alicepass');
      const u = await c.lines('UIDL');
      await c.quit();
      return u.lines.map((l) => l.split(' ')[1] as string);
    };
    const all = await uidlOf('alice@imap.test');
    const recent = await uidlOf('recent:alice@imap.test');
    assert.equal(recent.length, 1);
    assert.ok(all.includes(recent[0] as string), 'the recent session names the message as every session does');
  });

  it('recent: where the tenant has not turned it on is refused like a wrong password', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.command('USER recent:john@example.com');
    assert.equal(await c.command('PASS johnpw'), '-ERR [AUTH] Authentication failed.');
    c.destroy();
  });

  it('bad names, unknown tenants, unknown users and wrong passwords get one answer, each after the failure delay', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    try {
      const attempts: [string, string][] = [
        ['john@example.com', 'wrong'], // wrong password
        ['nobody@example.com', 'johnpw'], // unknown user, known tenant
        ['john@nowhere.test', 'johnpw'], // unknown domain (default tenant, unknown user)
        ['@example.com', 'x'], // empty local part
        ['a@b@example.com', 'x'], // several @
        ['john@exa_mple.com', 'x'], // not a domain
      ];
      for (const [login, password] of attempts) {
        assert.equal(await c.command(`USER ${login}`), '+OK', login);
        const started = Date.now();
        assert.equal(await c.command(`PASS ${password}`), '-ERR [AUTH] Authentication failed.', login);
        assert.ok(Date.now() - started >= DELAY_MS - 5, `${login}: answered after ${Date.now() - started} ms`);
      }
      // USER lines stop at 255 octets (RFC 2449), so AUTH PLAIN carries an over-long name; and the
      // empty host, since `USER john@` then PASS would work the same way; and control characters.
      const overLong = `${'j'.repeat(70)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.${'g'.repeat(60)}.com`;
      for (const authcid of ['john@', 'jo\u0001hn@example.com', 'john@example.com\u007f', overLong]) {
        const started = Date.now();
        const reply = await c.command(`AUTH PLAIN ${Buffer.from(`\0${authcid}\0johnpw`).toString('base64')}`);
        assert.equal(reply, '-ERR [AUTH] Authentication failed.', JSON.stringify(authcid));
        assert.ok(Date.now() - started >= DELAY_MS - 5, JSON.stringify(authcid));
      }
      await c.quit();
    } finally {
      c.destroy();
    }
    const reasons = gw.logs.map((l) => JSON.parse(l) as { msg: string; reason?: string }).filter((l) => l.msg === 'login failed' && l.reason !== undefined);
    assert.ok(
      reasons.some((l) => l.reason === 'no route: more than one @'),
      'the log (not the client) says why',
    );
  });
});
