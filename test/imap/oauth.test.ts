import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleMessage } from '../helpers/maildir.js';
import { startTokenServer, type TokenServer } from '../helpers/oauth-token-server.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const xoauth2 = (user: string, token: string): string => b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);
const oauthbearer = (user: string, token: string): string => b64(`n,a=${user},\x01host=127.0.0.1\x01port=110\x01auth=Bearer ${token}\x01\x01`);

describe('OAuth bearer tokens passed through to IMAP (XOAUTH2, OAUTHBEARER)', () => {
  let tokens: TokenServer;
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let extDir: string;
  before(async () => {
    tokens = await startTokenServer();
    extDir = mkdtempSync(join(tmpdir(), 'popgate-oauth-'));
    chmodSync(extDir, 0o755); // Dovecot's auth process (the dovecot user) reads the .ext file
    const extPath = join(extDir, 'dovecot-oauth2.conf.ext');
    const { conf, ext } = tokens.dovecotConfig(extPath);
    writeFileSync(extPath, ext, { mode: 0o644 });
    dovecot = await startDovecot({ protocols: ['imap'], extraConfig: conf });
    dovecot.deliver('alice', sampleMessage(1));
    tokens.tokens.set('tok-alice', 'alice');
    gw = await startTestGateway({
      users: {},
      tenantConfig: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' },
      config: { allowPlaintextAuth: 'always', limits: { authFailureDelayMs: 50 } },
    });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
    await tokens?.close();
    rmSync(extDir, { recursive: true, force: true });
  });

  it('offers XOAUTH2 and OAUTHBEARER for a tenant that passes tokens on', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    const capa = await c.lines('CAPA');
    const sasl = capa.lines.find((l) => l.startsWith('SASL '));
    assert.ok(sasl?.includes('XOAUTH2') && sasl.includes('OAUTHBEARER'), String(sasl));
    await c.quit();
  });

  for (const [name, encode] of [
    ['XOAUTH2', xoauth2],
    ['OAUTHBEARER', oauthbearer],
  ] as const) {
    it(`${name} with a valid token logs in and lists the mailbox`, async () => {
      const c = await Pop3TestClient.connect(gw.port);
      assert.equal(await c.command(`AUTH ${name} ${encode('alice', 'tok-alice')}`), '+OK Logged in.');
      assert.match(await c.command('STAT'), /^\+OK 1 \d+$/);
      await c.quit();
    });

    it(`${name} with a bad token gets an error challenge, then -ERR [AUTH]`, async () => {
      const c = await Pop3TestClient.connect(gw.port);
      const challenge = await c.command(`AUTH ${name} ${encode('alice', 'tok-wrong')}`);
      assert.match(challenge, /^\+ /);
      assert.equal((JSON.parse(Buffer.from(challenge.slice(2), 'base64').toString()) as { status?: unknown }).status, 'invalid_token');
      assert.equal(await c.command(name === 'XOAUTH2' ? '' : 'AQ=='), '-ERR [AUTH] Authentication failed.');
      assert.equal(await c.command(`AUTH ${name} ${encode('alice', 'tok-alice')}`), '+OK Logged in.', 'the session goes on');
      await c.quit();
    });
  }

  it('a revoked token stops working at the next login; tokens never reach the logs', async () => {
    tokens.tokens.set('tok-temp', 'alice');
    const c = await Pop3TestClient.connect(gw.port);
    assert.equal(await c.command(`AUTH XOAUTH2 ${xoauth2('alice', 'tok-temp')}`), '+OK Logged in.');
    await c.quit();
    tokens.tokens.delete('tok-temp');
    const d = await Pop3TestClient.connect(gw.port);
    assert.match(await d.command(`AUTH XOAUTH2 ${xoauth2('alice', 'tok-temp')}`), /^\+ /);
    assert.equal(await d.command(''), '-ERR [AUTH] Authentication failed.');
    await d.quit();
    assert.ok(!gw.logs.some((l) => l.includes('tok-temp') || l.includes('tok-alice')), 'no token in any log line');
  });

  it('rejects malformed token blobs with -ERR and goes on', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    assert.match(await c.command(`AUTH XOAUTH2 ${b64('user=alice\x01auth=Basic x\x01\x01')}`), /^-ERR /);
    assert.match(await c.command(`AUTH OAUTHBEARER ${b64('n,,\x01auth=Bearer tok-alice\x01\x01')}`), /^-ERR /);
    assert.equal(await c.command(`AUTH OAUTHBEARER ${oauthbearer('alice', 'tok-alice')}`), '+OK Logged in.');
    await c.quit();
  });
});
