/** deleteMode at QUIT (labels changed, or batchDelete), `recent:` windows, and the config rule for `delete`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tenantSchema } from '../../src/config/schema.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { loggedIn } from '../helpers/tx-util.js';

const U = ALICE_GMAIL.user;

describe('gmail: delete modes', () => {
  let g: GmailStandin;
  before(async () => {
    g = await startGmailStandin();
  });
  after(() => g?.close());

  for (const [mode, check] of [
    ['archive', (labels: Set<string>) => !labels.has('INBOX') && !labels.has('TRASH')],
    ['markRead', (labels: Set<string>) => labels.has('INBOX') && !labels.has('UNREAD')],
    ['keep', (labels: Set<string>) => labels.has('INBOX') && labels.has('UNREAD')],
  ] as const) {
    it(`${mode}: DELE + QUIT changes the labels in one batchModify`, async () => {
      g.clear(U);
      const id = g.add(U, Buffer.from('Subject: x\n\nx\n'));
      const gw: TestGateway = await startGmailGateway(g, { tenant: { deleteMode: mode } });
      try {
        g.resetCounts();
        const c = await loggedIn(gw, U, ALICE_GMAIL.password);
        assert.match(await c.command('DELE 1'), /^\+OK/);
        assert.match(await c.quit(), /^\+OK/);
        assert.equal(g.counts.batchModify, mode === 'keep' ? 0 : 1);
        const m = g.messages(U).find((x) => x.id === id);
        assert.ok(m !== undefined && check(m.labels), `${mode}: ${[...(m?.labels ?? [])].join(',')}`);
      } finally {
        await gw.stop();
      }
    });
  }

  it('delete: 1,200 messages go in two batchDelete requests', async () => {
    g.clear(U);
    for (let i = 0; i < 1200; i++) g.add(U, Buffer.from(`Subject: ${i}\n\n.\n`));
    const gw = await startGmailGateway(g, { tenant: { deleteMode: 'delete', fullMailScope: true, unitsPerSecond: 1_000_000 } });
    try {
      g.resetCounts();
      const c = await loggedIn(gw, U, ALICE_GMAIL.password);
      for (let i = 1; i <= 1200; i++) c.send(`DELE ${i}\r\n`);
      for (let i = 1; i <= 1200; i++) assert.match(await c.readLine(), /^\+OK/);
      assert.match(await c.quit(), /^\+OK/);
      assert.equal(g.counts.batchDelete, 2);
      assert.equal(g.messages(U).length, 0);
    } finally {
      await gw.stop();
    }
  });

  it('recent: logins list only mail received inside the window (after:<epoch seconds>)', async () => {
    g.clear(U);
    g.add(U, Buffer.from('Subject: old\n\nold\n'), { internalDate: Date.now() - 40 * 86_400_000 });
    g.add(U, Buffer.from('Subject: new\n\nnew\n'), { internalDate: Date.now() - 86_400_000 });
    const gw = await startGmailGateway(g, { tenant: { recent: { enabled: true, days: 30 } } });
    try {
      const c = await loggedIn(gw, `recent:${U}`, ALICE_GMAIL.password);
      assert.match(await c.command('STAT'), /^\+OK 1 /);
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  it('deleteMode delete without fullMailScope is refused by the config check', () => {
    const r = tenantSchema.safeParse({ adapter: 'gmail', auth: 'passthrough', deleteMode: 'delete' });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /fullMailScope/);
  });
});
