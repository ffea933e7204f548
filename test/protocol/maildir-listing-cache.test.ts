import assert from 'node:assert/strict';
import { renameSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

/** Makes new/ and cur/ look untouched for a minute, so their listing may be cached. */
function settle(maildir: string): void {
  const past = new Date(Date.now() - 60_000);
  for (const sub of ['new', 'cur']) utimesSync(join(maildir, sub), past, past);
}

function lastListingSource(gw: TestGateway): string | undefined {
  const line = gw.logs.filter((l) => l.includes('maildir: listing')).at(-1);
  return line === undefined ? undefined : (JSON.parse(line) as { source?: string }).source;
}

async function uidls(gw: TestGateway): Promise<string[]> {
  const c = await Pop3TestClient.connect(gw.port);
  await c.login(ALICE.user, ALICE.password);
  const { lines } = await c.lines('UIDL');
  await c.quit();
  return lines.map((l) => l.split(' ')[1] as string);
}

describe('Maildir listing cache (keyed by the mtimes of new/ and cur/)', () => {
  let gw: TestGateway;
  let md: string;
  before(async () => {
    gw = await startTestGateway();
    md = gw.maildir('alice');
    for (let i = 1; i <= 3; i++) addMessage(md, sampleMessage(i));
  });
  after(() => gw.stop());

  it('reuses the listing of an unchanged Maildir and rescans after any change', async () => {
    settle(md);
    const first = await uidls(gw);
    assert.equal(lastListingSource(gw), 'scan');
    assert.deepEqual(await uidls(gw), first);
    assert.equal(lastListingSource(gw), 'cache');

    addMessage(md, sampleMessage(4));
    settle(md);
    const withNew = await uidls(gw);
    assert.equal(lastListingSource(gw), 'scan');
    assert.equal(withNew.length, 4);

    // Another MUA marks a message read: new/ -> cur/ with flags; the UIDL must not change.
    const [file] = readdirSync(join(md, 'new')).sort();
    renameSync(join(md, 'new', file as string), join(md, 'cur', `${file}:2,S`));
    settle(md);
    assert.deepEqual(await uidls(gw), withNew);
    assert.equal(lastListingSource(gw), 'scan');
  });

  it('does not cache a listing of folders changed just now (same-tick deliveries)', async () => {
    addMessage(md, sampleMessage(5));
    await uidls(gw);
    assert.equal(lastListingSource(gw), 'scan');
    await uidls(gw);
    assert.equal(lastListingSource(gw), 'scan', 'new/ changed less than 2 s ago: scanned again');
  });
});
