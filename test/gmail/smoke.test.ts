/** A first end-to-end pass: list, sizes, RETR, DELE + QUIT trashes (service account). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { loggedIn } from '../helpers/tx-util.js';

describe('gmail: end to end', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g);
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it('lists oldest first with exact sizes, RETR gives the bytes as CRLF, DELE + QUIT trashes', async () => {
    g.add(ALICE_GMAIL.user, Buffer.from('Subject: one\n\nfirst\n'));
    g.add(ALICE_GMAIL.user, Buffer.from('Subject: two\r\n\r\nsecond\r\n'));
    const c = await loggedIn(gw, ALICE_GMAIL.user, ALICE_GMAIL.password);
    assert.equal(await c.command('STAT'), '+OK 2 47');
    const r = await c.multiline('RETR 1');
    assert.equal(r.body.toString(), 'Subject: one\r\n\r\nfirst\r\n');
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    const left = g.inbox(ALICE_GMAIL.user);
    assert.equal(left.length, 1);
    assert.match(left[0]?.raw.toString() ?? '', /two/);
    assert.equal(g.messages(ALICE_GMAIL.user)[0]?.labels.has('TRASH'), true);
  });
});
