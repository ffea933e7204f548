/**
 * A bounded abuse run against a live gateway process (`popgate serve`, a child, so its memory
 * and file descriptors are its own): several hundred connections that stay silent, dribble
 * bytes, or pipeline commands and never read, from one address, while a well-behaved client
 * logs in and downloads. Loopback only; about 15 s.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { cleanup, freePort, tempDir } from '../helpers/client-run.js';
import { start, stop, waitForGreeting, type Running } from '../helpers/cli-process.js';
import { addMessage, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { testCert } from '../helpers/tls.js';
import { sleep } from '../helpers/tx-util.js';

const SILENT_PLAIN = 200;
const SILENT_TLS = 150;
const DRIBBLERS = 50;
const NEVER_READING = 20;
const LOGIN_TIMEOUT_S = 3;
const HANDSHAKE_TIMEOUT_S = 2;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Attacker {
  readonly socket: Socket;
  closed: boolean;
}

/** `reads`: takes what the server sends (so it sees the server's close), or never reads at all. */
function attacker(port: number, reads = true): Promise<Attacker> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => resolve(a));
    const a: Attacker = { socket, closed: false };
    if (reads) socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => (a.closed = true));
    socket.once('error', reject);
  });
}

describe('abuse: hundreds of silent, slow and never-reading connections against a live gateway', () => {
  let dir: string;
  let proc: Running | undefined;
  let plainPort: number;
  let tlsPort: number;

  before(async () => {
    dir = tempDir('abuse');
    const users = new UsersFile(join(dir, 'users.yaml'));
    const password = await hashPassword('alicepass');
    users.update((map) => map.set('alice', { password }));
    addMessage(join(dir, 'mail', 'alice'), sampleMessage(1, 'x'.repeat(100_000) + '\n'));
    addMessage(join(dir, 'mail', 'alice'), sampleMessage(2));
    const cert = testCert();
    plainPort = await freePort();
    tlsPort = await freePort();
    writeFileSync(
      join(dir, 'popgate.yaml'),
      `listeners:
  - { host: 127.0.0.1, port: ${plainPort} }
  - { host: 127.0.0.1, port: ${tlsPort}, tls: implicit }
tls: { cert: ${cert.certPath}, key: ${cert.keyPath} }
tenants:
  main: { adapter: maildir, path: "mail/{user}", users: users.yaml }
allowPlaintextAuth: always
limits: { maxConnections: 3000, maxConnectionsPerIp: 2000, maxBadCommands: 1000000, authFailureDelayMs: 0, loginTimeoutSeconds: ${LOGIN_TIMEOUT_S}, tlsHandshakeTimeoutSeconds: ${HANDSHAKE_TIMEOUT_S} }
log: { level: warn }
`,
    );
    proc = start(['serve', '--config', join(dir, 'popgate.yaml')]);
    await waitForGreeting(plainPort, proc);
  });

  after(() => {
    stop(proc);
    cleanup(dir);
  });

  it('keeps memory and descriptors bounded, closes every attacker by the deadlines, and serves a real client within a second', async (t) => {
    const pid = proc?.child.pid as number;
    // One login first: the real client's password is then cached, as a polling device's is.
    const warm = await Pop3TestClient.connect(plainPort);
    await warm.login('alice', 'alicepass');
    await warm.quit();
    await sleep(200);
    const baseRss = rssMiB(pid);
    const baseFds = openFds(pid);

    const started = Date.now();
    const silentPlain = await Promise.all(Array.from({ length: SILENT_PLAIN }, () => attacker(plainPort)));
    const silentTls = await Promise.all(Array.from({ length: SILENT_TLS }, () => attacker(tlsPort)));
    const dribblers = await Promise.all(Array.from({ length: DRIBBLERS }, () => attacker(plainPort)));
    const neverReading = await Promise.all(Array.from({ length: NEVER_READING }, () => attacker(plainPort, false)));
    const reading = [...silentPlain, ...silentTls, ...dribblers];
    const all = [...reading, ...neverReading];
    for (const a of neverReading) {
      a.socket.write(Buffer.from('CAPA\r\n'.repeat(512 * 1024))); // 3 MiB each: ~100 MiB of replies each if answered
    }
    const dribble = setInterval(() => {
      for (const a of dribblers) if (!a.closed) a.socket.write('N');
    }, 500);

    let served: number | undefined;
    let closedAfter: number | undefined;
    let peakRss = 0;
    let peakFds = 0;
    const sample = setInterval(() => {
      peakRss = Math.max(peakRss, rssMiB(pid));
      peakFds = Math.max(peakFds, openFds(pid));
    }, 100);
    try {
      await sleep(1000);
      const t0 = Date.now();
      const c = await Pop3TestClient.connect(plainPort);
      await c.login('alice', 'alicepass');
      const { status, body } = await c.multiline('RETR 1');
      served = Date.now() - t0;
      await c.quit();
      assert.match(status, /^\+OK /);
      assert.ok(body.length > 100_000);
      assert.ok(served < 1000, `login + RETR of 100 KB took ${served} ms under attack`);

      // Everything the attackers hold is gone by the deadlines (plus the 2 s a closed socket
      // gets to take its last line, and scheduling slack): the server's descriptors say so, and
      // every attacker that reads sees its close.
      const deadline = started + (LOGIN_TIMEOUT_S + 4) * 1000;
      while ((openFds(pid) > baseFds + 5 || reading.some((a) => !a.closed)) && Date.now() < deadline) await sleep(100);
      assert.ok(openFds(pid) <= baseFds + 5, `${openFds(pid)} fds open ${Date.now() - started} ms after the attack began, ${baseFds} before`);
      closedAfter = Date.now() - started;
      const open = reading.filter((a) => !a.closed).length;
      assert.equal(open, 0, `${open} attacker connections still open ${Date.now() - started} ms after they began`);
    } finally {
      clearInterval(dribble);
      clearInterval(sample);
      for (const a of all) a.socket.destroy();
    }
    await sleep(300);
    const growth = peakRss - baseRss;
    t.diagnostic(
      `RSS ${baseRss.toFixed(0)} -> peak ${peakRss.toFixed(0)} MiB; fds ${baseFds} -> peak ${peakFds} -> ${openFds(pid)}; real client login + RETR ${served} ms; all closed after ${closedAfter} ms`,
    );
    assert.ok(peakFds >= baseFds + SILENT_PLAIN, `the attack did not reach the server (${peakFds} fds at most)`);
    assert.ok(growth < 120, `RSS grew by ${growth.toFixed(0)} MiB (from ${baseRss.toFixed(0)})`);
    // And the gateway still serves.
    const after = await Pop3TestClient.connect(plainPort);
    await after.login('alice', 'alicepass');
    assert.match(await after.command('STAT'), /^\+OK 2 /);
    await after.quit();
  });
});
