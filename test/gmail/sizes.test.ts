/**
 * Exact sizes: counted once from the raw bytes, then served from memory, and with stateDir from
 * a file that survives a gateway restart (counted by the stand-in's messages.get requests).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { loggedIn } from '../helpers/tx-util.js';

describe('gmail: sizes', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  const stateDir = mkdtempSync(join(tmpdir(), 'popgate-gmail-state-'));
  const start = (): Promise<TestGateway> => startGmailGateway(g, { tenant: { stateDir } });
  before(async () => {
    g = await startGmailStandin();
    for (let i = 0; i < 20; i++) g.add(ALICE_GMAIL.user, Buffer.from(`Subject: ${i}\n\n${'line\n'.repeat(i + 1)}`));
    gw = await start();
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('the first STAT reads every message once; later sessions and a restarted gateway read none', async () => {
    const want = Array.from({ length: 20 }, (_, i) => 13 + String(i).length + 6 * (i + 1)).reduce((a, b) => a + b, 0);
    g.resetCounts();
    const c1 = await loggedIn(gw, ALICE_GMAIL.user, ALICE_GMAIL.password);
    assert.equal(await c1.command('STAT'), `+OK 20 ${want}`);
    await c1.quit();
    assert.equal(g.counts.get, 20, 'one messages.get per message');

    const c2 = await loggedIn(gw, ALICE_GMAIL.user, ALICE_GMAIL.password);
    assert.equal(await c2.command('STAT'), `+OK 20 ${want}`);
    await c2.quit();
    assert.equal(g.counts.get, 20, 'cached in memory');

    await gw.stop();
    assert.equal(readFileSync(join(stateDir, 'gmail-sizes.jsonl'), 'utf8').trim().split('\n').length, 20, 'one line per size');
    gw = await start();
    const c3 = await loggedIn(gw, ALICE_GMAIL.user, ALICE_GMAIL.password);
    assert.equal(await c3.command('STAT'), `+OK 20 ${want}`);
    await c3.quit();
    assert.equal(g.counts.get, 20, 'read from the size file after the restart');
    assert.equal(g.counts.token, 2, 'one token per gateway run');
  });
});
