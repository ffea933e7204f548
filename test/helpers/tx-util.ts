/** Small helpers shared by the protocol tests (transaction, bad input, pipelining, locking, shutdown). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { TestGateway } from './gateway.js';
import { makeMaildir, toCrlf } from './maildir.js';
import { Pop3TestClient } from './pop3-client.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` until it is true; throws after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until the gateway has cleaned up every session (locks released, counters down). */
export function waitForNoSessions(gw: TestGateway, timeoutMs = 5000): Promise<void> {
  return waitUntil(() => gw.gateway.server.activeConnections === 0, 'all sessions to end on the server', timeoutMs);
}

/** Connects and logs in. */
export async function loggedIn(gw: TestGateway, user = 'alice', password = 'alicepass', localAddress?: string): Promise<Pop3TestClient> {
  const c = await Pop3TestClient.connect(gw.port, localAddress === undefined ? {} : { localAddress });
  await c.login(user, password);
  return c;
}

/** Empties a Maildir (new/, cur/, tmp/ and any Maildir++ folders) and recreates it. */
export function resetMaildir(root: string): void {
  rmSync(root, { recursive: true, force: true });
  makeMaildir(root);
}

/** Writes a message file with exactly this name (for odd names the fixture helper cannot make). */
export function writeNamed(root: string, sub: 'new' | 'cur', name: string, content: string | Buffer): void {
  mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, sub, name), content);
}

export function filesIn(root: string, sub: string): string[] {
  try {
    return readdirSync(join(root, sub)).sort();
  } catch {
    return [];
  }
}

/**
 * What a client must receive for a message (after un-stuffing): CRLF line ends, plus a CRLF
 * added when the message lacks a final line end.
 */
export function expectedBody(content: string | Buffer): Buffer {
  const crlf = toCrlf(content);
  const endsWithLf = crlf.length >= 2 && crlf[crlf.length - 1] === 0x0a;
  return crlf.length === 0 || endsWithLf ? crlf : Buffer.concat([crlf, Buffer.from('\r\n')]);
}

/** The size POP3 must announce: CRLF octets, without the CRLF added for a message lacking one. */
export function expectedSize(content: string | Buffer): number {
  return toCrlf(content).length;
}

/** Dot-stuffs CRLF text as it must appear on the wire (without the terminating ".\r\n"). */
export function stuffed(body: Buffer): Buffer {
  return Buffer.from(body.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
}

/** Reads `n` one-line replies. */
export async function readLines(c: Pop3TestClient, n: number, timeoutMs?: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await c.readLine(timeoutMs));
  return out;
}

/**
 * The server side sockets of the open sessions. Reaches into the server's private connection
 * set (no public API exposes them), only to observe back-pressure from a test.
 */
export function serverSockets(gw: TestGateway): Socket[] {
  const conns = (gw.gateway.server as unknown as { connections: Set<{ socket: Socket }> }).connections;
  return [...conns].map((c) => c.socket);
}
