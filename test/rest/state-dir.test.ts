/**
 * REST `stateDir`: sizes counted by the adapter are kept in a file there, so a restarted gateway
 * answers STAT without reading any message it already counted. The key holds the ETag: a
 * message whose bytes changed (new ETag) is counted again; one without an ETag is never kept.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { crlf } from '../contract/suite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { restTenant, REST_TOKEN } from '../helpers/rest-gateway.js';
import { startRestStore, type RestStoreServer } from '../helpers/rest-store.js';
import { loggedIn } from '../helpers/tx-util.js';

const msg = (i: number): Buffer => Buffer.from(`Subject: ${i}\n\n${'body line\n'.repeat(i + 1)}`);

function startGateway(store: RestStoreServer, stateDir: string): Promise<TestGateway> {
  return startTestGateway({ tenantConfig: ({ usersFile }) => restTenant(store.baseUrl, usersFile, { stateDir }) });
}

async function stat(gw: TestGateway): Promise<string> {
  const c = await loggedIn(gw);
  const reply = await c.command('STAT');
  await c.quit();
  return reply;
}

const statOf = (raws: readonly Buffer[]): string => `+OK ${raws.length} ${raws.reduce((a, r) => a + crlf(r).length, 0)}`;

describe('REST stateDir: counted sizes survive a restart', () => {
  const dirs: string[] = [];
  const stores: RestStoreServer[] = [];
  const gateways: TestGateway[] = [];
  const tempState = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'popgate-rest-state-'));
    dirs.push(d);
    return d;
  };
  const store = async (etags: boolean): Promise<RestStoreServer> => {
    const s = await startRestStore({ auth: { kind: 'bearer', token: REST_TOKEN }, sizes: false, etags });
    stores.push(s);
    return s;
  };
  const gateway = async (s: RestStoreServer, stateDir: string): Promise<TestGateway> => {
    const gw = await startGateway(s, stateDir);
    gateways.push(gw);
    return gw;
  };
  after(async () => {
    for (const gw of gateways) await gw.stop();
    for (const s of stores) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('after a restart STAT reads no message whose size was counted; a changed ETag is counted again', async () => {
    const s = await store(true);
    const stateDir = tempState();
    const raws = Array.from({ length: 6 }, (_, i) => msg(i));
    s.seed(
      'alice',
      raws.map((raw, i) => ({ raw, id: `id-${i}` })),
    );

    const first = await gateway(s, stateDir);
    let gets = s.calls.get;
    assert.equal(await stat(first), statOf(raws));
    assert.equal(s.calls.get - gets, 6, 'the first STAT counts every message');
    await first.stop();
    const file = join(stateDir, 'rest-sizes.jsonl');
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 6, 'one line per size, written by the time the gateway stopped');

    // Message 3 gets other bytes under the same id: the store gives it another ETag.
    const changed = Buffer.from('Subject: 3 again\n\nlonger\nand longer\nthan before\n');
    raws[3] = changed;
    s.seed(
      'alice',
      raws.map((raw, i) => ({ raw, id: `id-${i}` })),
    );
    const second = await gateway(s, stateDir);
    gets = s.calls.get;
    assert.equal(await stat(second), statOf(raws));
    assert.equal(s.calls.get - gets, 1, 'only the message with the new ETag is read');
    assert.deepEqual(
      s.requests.slice(-1).map((r) => r.url),
      ['/mailboxes/alice/messages/id-3'],
    );
    const c = await loggedIn(second);
    assert.equal(await c.command('LIST 4'), `+OK 4 ${crlf(changed).length}`);
    await c.quit();
    assert.equal(s.calls.get - gets, 1, 'and kept for the next session');
  });

  it('a message without an ETag is counted in every run and never written to the file', async () => {
    const s = await store(false);
    const stateDir = tempState();
    const raws = [msg(1), msg(2)];
    s.seed('alice', raws);
    const first = await gateway(s, stateDir);
    let gets = s.calls.get;
    assert.equal(await stat(first), statOf(raws));
    assert.equal(await stat(first), statOf(raws));
    assert.equal(s.calls.get - gets, 4, 'counted in each session');
    await first.stop();
    assert.ok(!existsSync(join(stateDir, 'rest-sizes.jsonl')) || readFileSync(join(stateDir, 'rest-sizes.jsonl'), 'utf8') === '', 'nothing kept');
    const second = await gateway(s, stateDir);
    gets = s.calls.get;
    assert.equal(await stat(second), statOf(raws));
    assert.equal(s.calls.get - gets, 2, 'counted again after the restart');
  });
});
