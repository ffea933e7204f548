/**
 * A session that has ended holds no memory: its socket, replies and state are garbage as soon as
 * the connection closes (a timer once kept each closed session alive for two more seconds, so a
 * burst of short sessions piled up).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sleep } from '../helpers/tx-util.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function liveHeapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** One short session: CAPA, QUIT (or an over-long line), then wait for the server's close. */
function session(port: number, script: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(script));
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
}

describe('memory of ended sessions', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ config: { log: { level: 'silent' } } });
  });
  after(() => gw.stop());

  it('1,000 sessions that just ended (QUIT, or closed for a long line) leave the heap where it was', async (t) => {
    for (let i = 0; i < 100; i++) await session(gw.port, 'CAPA\r\nQUIT\r\n');
    await sleep(100);
    const before = liveHeapMiB();
    for (let i = 0; i < 500; i++) await session(gw.port, 'CAPA\r\nQUIT\r\n');
    for (let i = 0; i < 500; i++) await session(gw.port, 'X'.repeat(300));
    await sleep(100);
    const growth = liveHeapMiB() - before;
    t.diagnostic(`live heap ${before.toFixed(1)} MiB -> +${growth.toFixed(2)} MiB after 1,000 sessions`);
    assert.ok(growth < 2, `the heap grew by ${growth.toFixed(2)} MiB`);
  });
});
