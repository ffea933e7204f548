/** `recent:` logins on a REST tenant list only what the store says was received within the window. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';

describe('REST recent: logins', () => {
  let stack: RestStack;
  before(async () => {
    stack = await startRestStack({ tenant: { recent: { enabled: true, days: 30 } } });
    const day = 86_400_000;
    stack.store.seed('alice', [
      { id: 'old', raw: Buffer.from('Subject: old\r\n\r\nold\r\n'), received: new Date(Date.now() - 60 * day) },
      { id: 'new1', raw: Buffer.from('Subject: new 1\r\n\r\nnew\r\n'), received: new Date(Date.now() - 2 * day) },
      { id: 'new2', raw: Buffer.from('Subject: new 2\r\n\r\nnew\r\n'), received: new Date(Date.now() - day) },
    ]);
  });
  after(() => stopRestStack(stack));

  it('a normal login lists all three; recent:alice only the two of the last 30 days, with the same UIDLs', async () => {
    const all = await Pop3TestClient.connect(stack.gw.port);
    await all.login(ALICE.user, ALICE.password);
    assert.deepEqual((await all.lines('UIDL')).lines, ['1 old', '2 new1', '3 new2']);
    await all.quit();
    const recent = await Pop3TestClient.connect(stack.gw.port);
    await recent.login(`recent:${ALICE.user}`, ALICE.password);
    assert.deepEqual((await recent.lines('UIDL')).lines, ['1 new1', '2 new2']);
    await recent.quit();
  });
});
