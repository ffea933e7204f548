/**
 * Back-pressure: a POP3 client that stops reading a 64 MiB message stops the gateway reading it
 * from S3. What the proxy in front of s3rver has passed to the gateway stays far below the
 * object (kernel socket buffers on both sides hold some MiB) and stops growing while the client
 * waits; once the client reads again, the whole message arrives.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import type { S3Proxy } from '../helpers/s3-proxy.js';
import { startS3Stack, stopS3Stack } from '../helpers/s3-stack.js';
import { ALICE_PREFIX } from '../helpers/s3-gateway.js';
import type { S3rver } from '../helpers/s3rver.js';
import { sleep, waitUntil } from '../helpers/tx-util.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
/** CRLF lines that never start with a dot: the message is sent as stored. */
const LINE = Buffer.from(`${'b'.repeat(1022)}\r\n`);
const BIG = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(SIZE - 16 - 2, LINE.toString('latin1'), 'latin1'), Buffer.from('\r\n')]);

/** A raw POP3 session that counts octets and can stop reading (no client-side buffering). */
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

describe('S3 back-pressure: a slow POP3 reader', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  before(async () => {
    assert.equal(BIG.length, SIZE);
    ({ s3, proxy, gw } = await startS3Stack(async (s3) => {
      await s3.put(`${ALICE_PREFIX}big`, BIG);
    }));
  });
  after(() => stopS3Stack({ s3, proxy, gw }));

  it('does not make the gateway read (or hold) the object ahead of it', async () => {
    const s = await CountingSession.open(gw.port);
    s.socket.write('USER alice\r\nPASS alicepass\r\nLIST 1\r\n');
    // LIST measures the size: the object is streamed through once, before RETR.
    await waitUntil(() => s.ends(`+OK 1 ${SIZE}\r\n`), 'LIST', 60_000);
    proxy.clear();
    s.socket.pause();
    s.socket.write('RETR 1\r\n');
    await sleep(1500);
    const first = proxy.bytesOut;
    await sleep(1000);
    const second = proxy.bytesOut;
    process.stderr.write(`# slow reader: ${(second / MiB).toFixed(1)} MiB of ${SIZE / MiB} MiB passed to the gateway\n`);
    assert.ok(second < SIZE / 2, `${second} octets passed while the client read nothing`);
    assert.ok(second - first < MiB, `still reading while the client waits: ${first} -> ${second}`);
    s.socket.resume();
    await waitUntil(() => s.ends('\r\n.\r\n'), 'the whole message', 120_000);
    assert.equal(proxy.bytesOut, SIZE, 'every octet read once');
    s.socket.destroy();
  });
});
