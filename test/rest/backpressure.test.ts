/**
 * A 32 MiB message through the REST adapter to a POP3 client that stops reading: the store is
 * read only as fast as the client reads (what the store handed to its sockets stays far below
 * the message and stops growing), and the whole message arrives once the client reads again.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { sleep, waitUntil } from '../helpers/tx-util.js';

const MiB = 1024 * 1024;
const SIZE = 32 * MiB;
const LINE = `${'b'.repeat(1022)}\r\n`;
const BIG = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(SIZE - 16 - 2, LINE, 'latin1'), Buffer.from('\r\n')]);

describe('REST back-pressure: a slow POP3 reader', () => {
  let s: RestStack;
  before(async () => {
    s = await startRestStack();
    s.store.seed('alice', [BIG]);
  });
  after(() => stopRestStack(s));

  it('does not make the gateway read (or hold) the message ahead of its client', async () => {
    const socket: Socket = connect(s.gw.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let received = 0;
    let tail = '';
    socket.on('data', (c: Buffer) => {
      received += c.length;
      tail = (tail + c.toString('latin1')).slice(-64);
    });
    socket.write('USER alice\r\nPASS alicepass\r\nLIST 1\r\n');
    await waitUntil(() => tail.endsWith(`+OK 1 ${SIZE}\r\n`), 'LIST');
    socket.pause();
    socket.write('RETR 1\r\n');
    await sleep(1000);
    const first = s.store.bytesOut;
    await sleep(700);
    const second = s.store.bytesOut;
    process.stderr.write(`# slow reader: ${(second / MiB).toFixed(1)} MiB of ${SIZE / MiB} MiB handed out by the store\n`);
    assert.ok(second < SIZE / 2, `${second} octets handed out while the client read nothing`);
    assert.ok(second - first < MiB, `still reading while the client waits: ${first} -> ${second}`);
    socket.resume();
    await waitUntil(() => tail.endsWith('\r\n.\r\n'), 'the whole message', 60_000);
    assert.ok(received > SIZE, `${received} octets received`);
    assert.equal(s.store.bytesOut, SIZE, 'every octet read once');
    socket.destroy();
  });
});
