/**
 * S3 `stateDir`: exact sizes are kept in a file there, so a restarted gateway answers STAT
 * without reading an object it already counted. A probe's guess (`sizes: probe`) never goes to
 * the file: after a restart such an object is probed again, never announced from a guess.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedSize, loggedIn } from '../helpers/tx-util.js';

const small = (i: number): Buffer => Buffer.from(`Subject: ${i}\n\n${'line\n'.repeat(i + 1)}`);
/** Larger than the 64 KiB probe and CRLF throughout: `sizes: probe` announces ContentLength as a guess. */
const LARGE_CRLF = Buffer.from('Subject: large\r\n\r\n' + 'crlf line of some length, repeated\r\n'.repeat(3000));

describe('S3 stateDir: exact sizes survive a restart, guesses do not', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  const stateDir = mkdtempSync(join(tmpdir(), 'popgate-s3-state-'));
  const gateways: TestGateway[] = [];
  const objects = [small(0), small(1), small(2), LARGE_CRLF];
  const gateway = async (): Promise<TestGateway> => {
    const gw = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep', sizes: 'probe', stateDir } });
    gateways.push(gw);
    return gw;
  };
  const objectGets = (): string[] =>
    proxy.requests.filter((r) => r.method === 'GET' && !r.query.has('list-type')).map((r) => `${r.path} ${r.range ?? 'whole'}`);
  before(async () => {
    s3 = await startS3rver();
    for (const [i, body] of objects.entries()) await s3.put(`${ALICE_PREFIX}m${i}`, body);
    proxy = await startS3Proxy(s3.port);
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await proxy?.stop();
    await s3?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('the restarted gateway reads no small object again, and probes the large one again', async () => {
    const total = objects.reduce((a, o) => a + expectedSize(o), 0);
    const first = await gateway();
    proxy.clear();
    let c = await loggedIn(first);
    assert.equal(await c.command('STAT'), `+OK 4 ${total}`);
    await c.quit();
    assert.equal(objectGets().length, 4, 'three small objects read whole, the large one probed');
    await first.stop();
    const lines = readFileSync(join(stateDir, 's3-sizes.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 3, `the exact sizes only, not the guess: ${lines.join(' | ')}`);

    const second = await gateway();
    proxy.clear();
    c = await loggedIn(second);
    assert.equal(await c.command('STAT'), `+OK 4 ${total}`);
    await c.quit();
    assert.deepEqual(objectGets(), [`/mail/${ALICE_PREFIX}m3 bytes=0-65535`], 'only the guessed object is probed again');
  });
});
