/**
 * A 25 MB message streamed to a POP3 client that stops reading for longer than the request
 * timeout: the gateway neither holds the JSON answer nor the message (heap and buffers grow by
 * far less than 25 MB), the HTTP answer waits for the reader, and the whole message arrives.
 * TOP of the same message ends the HTTP answer early instead of reading 33 MB of JSON.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { sleep, waitForNoSessions, waitUntil } from '../helpers/tx-util.js';

const MiB = 1024 * 1024;
const SIZE = 25 * MiB;
const LINE = `${'m'.repeat(1022)}\r\n`;
const BIG = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(SIZE - 16 - 2, LINE, 'latin1'), Buffer.from('\r\n')]);

// Live memory, not garbage: the test runner starts node without --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

class CountingSession {
  received = 0;
  private tail = Buffer.alloc(0);
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.received += c.length;
      this.tail = Buffer.concat([this.tail, c]).subarray(-64);
    });
  }
  static async open(port: number): Promise<CountingSession> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new CountingSession(socket);
  }
  ends(text: string): boolean {
    return this.tail.toString('latin1').endsWith(text);
  }
}

describe('gmail: a 25 MB message', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    g.add(ALICE_GMAIL.user, BIG);
    gw = await startGmailGateway(g, { tenant: { requestTimeoutMs: 1000 } });
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it('streams to a slow reader in bounded memory, paced by the reader', async () => {
    const s = await CountingSession.open(gw.port);
    s.socket.write(`USER ${ALICE_GMAIL.user}\r\nPASS ${ALICE_GMAIL.password}\r\nLIST 1\r\n`);
    await waitUntil(() => s.ends(`+OK 1 ${SIZE}\r\n`), 'LIST', 30_000);
    const base = used();
    g.resetCounts();
    s.socket.pause();
    s.socket.write('RETR 1\r\n');
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, used() - base)), 100);
    try {
      await sleep(1500);
      const first = g.traffic.getOctets;
      await sleep(1000);
      const second = g.traffic.getOctets;
      assert.ok(second < (SIZE * 4) / 3 / 2, `${second} octets of JSON sent while the client read nothing`);
      assert.ok(second - first < MiB, `still sending while the client waits: ${first} -> ${second}`);
      s.socket.resume();
      await waitUntil(() => s.ends('\r\n.\r\n'), 'the whole message', 60_000);
    } finally {
      clearInterval(sampler);
    }
    process.stderr.write(`# 25 MB RETR to a slow reader: peak growth ${(peak / MiB).toFixed(1)} MiB (live heap + buffers)\n`);
    assert.ok(peak < 12 * MiB, `memory grew by ${(peak / MiB).toFixed(1)} MiB`);
    assert.ok(s.received > SIZE, 'the whole message arrived');
    s.socket.destroy();
  });

  it('TOP 1 5 stops the HTTP answer after the first lines', async () => {
    await waitForNoSessions(gw);
    const s = await CountingSession.open(gw.port);
    g.resetCounts();
    s.socket.write(`USER ${ALICE_GMAIL.user}\r\nPASS ${ALICE_GMAIL.password}\r\nTOP 1 5\r\n`);
    await waitUntil(() => s.ends('\r\n.\r\n'), 'TOP', 10_000);
    await waitUntil(() => g.traffic.cutGets === 1, 'the answer closed early', 5000);
    assert.ok(g.traffic.getOctets < 8 * MiB, `${g.traffic.getOctets} octets of JSON sent for TOP`);
    s.socket.destroy();
  });
});
