/** Small helpers for the authentication and TLS protocol tests (auth.test.ts, tls.test.ts). */
import { createHash, createHmac } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Pop3TestClient } from './pop3-client.js';

export const b64 = (data: string | Buffer): string => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64');
export const unb64 = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

export const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');
export const hmacMd5Hex = (key: string, text: string): string => createHmac('md5', key).update(text, 'utf8').digest('hex');

/** The RFC 1939 APOP timestamp at the end of a greeting (`<...@...>`), or undefined. */
export function apopTimestamp(greeting: string): string | undefined {
  const m = /(<[^<>\s]*@[^<>\s]*>)\s*$/.exec(greeting);
  return m?.[1];
}

/** Opens clients and destroys every one of them at the end of a test (call `closeAll` in afterEach). */
export class Clients {
  private readonly open: Pop3TestClient[] = [];

  async connect(port: number, opts?: Parameters<typeof Pop3TestClient.connect>[1]): Promise<Pop3TestClient> {
    const c = await Pop3TestClient.connect(port, opts);
    this.open.push(c);
    return c;
  }

  async closeAll(): Promise<void> {
    const all = this.open.splice(0);
    for (const c of all) c.destroy();
    // Give the server a moment to notice and release maildrop locks.
    if (all.some((c) => !c.isEnded)) await delay(30);
  }
}

/** CAPA lines (status checked). */
export async function capa(c: Pop3TestClient): Promise<string[]> {
  const { status, lines } = await c.lines('CAPA');
  if (!status.startsWith('+OK')) throw new Error(`CAPA failed: ${status}`);
  return lines;
}

/** The mechanisms of the CAPA SASL line, or undefined when there is no SASL line. */
export function saslLine(lines: readonly string[]): string[] | undefined {
  const l = lines.find((x) => x === 'SASL' || x.startsWith('SASL '));
  return l === undefined ? undefined : l.split(' ').slice(1);
}

/**
 * Sends "STLS\r\n" + `extra` in ONE write (command injection attempt), reads the STLS answer,
 * waits `settleMs` and records whatever else arrived in plaintext, then upgrades the socket
 * with the client's own startTls (which would otherwise send STLS itself).
 */
export async function stlsWithInjection(
  c: Pop3TestClient,
  extra: string,
  tls: ConnectionOptions,
  settleMs = 150,
): Promise<{ answer: string; plaintextAfterAnswer: string }> {
  let plaintextAfterAnswer = '';
  const original = c.command.bind(c);
  c.command = async (line: string): Promise<string> => {
    c.send(`${line}\r\n${extra}`);
    const answer = await c.readLine();
    await delay(settleMs);
    plaintextAfterAnswer = c.unread;
    return answer;
  };
  try {
    const answer = await c.startTls(tls);
    return { answer, plaintextAfterAnswer };
  } finally {
    if (!Reflect.deleteProperty(c, 'command')) c.command = original;
  }
}

/** Waits `ms`, then returns what the server sent that has not been read yet (without consuming it). */
export async function unreadAfter(c: Pop3TestClient, ms: number): Promise<string> {
  await delay(ms);
  return c.unread;
}
