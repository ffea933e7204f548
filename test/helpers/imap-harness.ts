/**
 * Helpers for the IMAP adapter tests (test/imap/*.test.ts): a gateway whose only tenant is an
 * IMAP backend, direct IMAP and doveadm access to the private Dovecot, fast bulk delivery, and
 * ways to watch and break the backend (process and connection counts, SIGKILL).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { DovecotInstance } from './dovecot.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';
import { firstDifference } from './client-corpus.js';
import { crlfLength } from './maildir.js';

export interface ImapGatewayOptions {
  /** Tenant keys merged over `{ adapter: 'imap', host: '127.0.0.1', port, tls: 'none' }`. */
  readonly tenant?: Record<string, unknown>;
  /** `limits` keys merged over `{ authFailureDelayMs: 50 }`. */
  readonly limits?: Record<string, unknown>;
  /** Other top-level config keys. */
  readonly config?: Record<string, unknown>;
  readonly listeners?: TestGatewayOptions['listeners'];
}

export function imapTenant(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { adapter: 'imap', host: '127.0.0.1', port, tls: 'none', ...extra };
}

/** A gateway with no local users and one IMAP tenant (`main`) pointing at `port`. */
export function startImapGateway(port: number, opts: ImapGatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway({
    users: {},
    tenantConfig: imapTenant(port, opts.tenant),
    config: { limits: { authFailureDelayMs: 50, ...opts.limits }, ...opts.config },
    ...(opts.listeners && { listeners: opts.listeners }),
  });
}

/** A direct IMAP connection to the test Dovecot (plain, loopback) with `mailbox` selected. */
export async function openImap(dovecot: DovecotInstance, mailbox = 'INBOX', user = 'alice'): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: dovecot.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: dovecot.users[user] ?? '' },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  await client.mailboxOpen(mailbox);
  return client;
}

export async function closeImap(client: ImapFlow | undefined): Promise<void> {
  if (client === undefined) return;
  await client.logout().catch(() => undefined);
  client.close();
}

export interface StoredMessage {
  readonly uid: number;
  readonly flags: readonly string[];
  readonly messageId: string;
}

/** The messages of a mailbox as Dovecot sees them (`doveadm fetch uid flags hdr.message-id`). */
export async function listMailbox(dovecot: DovecotInstance, mailbox = 'INBOX', user = 'alice'): Promise<StoredMessage[]> {
  const out = await dovecot.doveadm(['-f', 'tab', 'fetch', '-u', user, 'uid flags hdr.message-id', 'mailbox', mailbox]);
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 0 && lines[0]?.startsWith('uid\t')) lines.shift();
  return lines.map((l) => {
    const [uid, flags, messageId] = l.split('\t');
    return { uid: Number(uid), flags: (flags ?? '').split(' ').filter((f) => f !== ''), messageId: (messageId ?? '').trim() };
  });
}

/** UIDVALIDITY of a mailbox (`doveadm mailbox status`). */
export async function uidValidityOf(dovecot: DovecotInstance, mailbox = 'INBOX', user = 'alice'): Promise<bigint> {
  const out = await dovecot.doveadm(['mailbox', 'status', '-u', user, 'uidvalidity', mailbox]);
  const m = /uidvalidity=(\d+)/.exec(out);
  if (m === null) throw new Error(`no uidvalidity in ${JSON.stringify(out)}`);
  return BigInt(m[1] as string);
}

let bulkSeconds = 1_500_000_000;
let bulkCounter = 0;

/**
 * Writes messages straight into the user's new/ (no fsync), named with ,S= and ,W= and strictly
 * increasing timestamps so Dovecot numbers them in this order. For fixtures set up before a login.
 */
export function putMessages(dovecot: DovecotInstance, contents: readonly (string | Buffer)[], user = 'alice'): string[] {
  const box = dovecot.mailDir(user);
  const names: string[] = [];
  for (const content of contents) {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    bulkCounter++;
    const name = `${bulkSeconds++}.M${bulkCounter}P${process.pid}.popgate-test,S=${body.length},W=${crlfLength(body)}`;
    const tmp = join(box, 'tmp', name);
    writeFileSync(tmp, body);
    renameSync(tmp, join(box, 'new', name));
    names.push(name);
  }
  dovecot.own(join(box, 'new'));
  return names;
}

/** Message files (new/ and cur/) of a user's INBOX on disk. */
export function filesOnDisk(dovecot: DovecotInstance, user = 'alice'): string[] {
  const box = dovecot.mailDir(user);
  return ['new', 'cur'].flatMap((sub) => readdirSync(join(box, sub))).sort();
}

/** A fixture message with a distinct Message-ID `<tag@popgate.test>`, LF line ends. */
export function taggedMessage(tag: string, body = `Body of ${tag}.\n`, extraHeaders = ''): string {
  return `From: sender@example.com\nTo: alice@example.org\nSubject: ${tag}\nMessage-ID: <${tag}@popgate.test>\n${extraHeaders}\n${body}`;
}

export const messageIdOf = (tag: string): string => `<${tag}@popgate.test>`;

/** The `instance_name` Dovecot runs under (its service processes are titled `dovecot-<name>/<service>`). */
export function dovecotInstanceName(dovecot: DovecotInstance): string {
  const m = /^instance_name = (.+)$/m.exec(readFileSync(dovecot.configPath, 'utf8'));
  if (m === null) throw new Error('no instance_name in the Dovecot config');
  return (m[1] as string).trim();
}

/** Live (not zombie) processes of this Dovecot instance whose title starts with `dovecot-<instance>/<service>`. */
export function dovecotProcesses(dovecot: DovecotInstance, service?: string): number[] {
  const prefix = `dovecot-${dovecotInstanceName(dovecot)}/`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0+$/, '');
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (!cmdline.startsWith(prefix)) continue;
      const title = cmdline.slice(prefix.length).split(/[\0 ]/)[0];
      if (service === undefined || title === service) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** SIGKILLs every process of this Dovecot instance (service processes first, then the master). */
export function killDovecot(dovecot: DovecotInstance): void {
  for (const pid of dovecotProcesses(dovecot)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  try {
    process.kill(dovecot.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** IMAP sessions Dovecot has for a user (`doveadm who`), counted over its connections. */
export async function dovecotSessions(dovecot: DovecotInstance, user = 'alice', proto = 'imap'): Promise<number> {
  const out = await dovecot.doveadm(['who']);
  let n = 0;
  for (const line of out.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[0] === user && f[2] === proto) n += Number(f[1]);
  }
  return n;
}

/**
 * TCP connections on this host whose remote end is 127.0.0.1:`port` and that are not closed yet
 * (ESTABLISHED, or CLOSE_WAIT: the peer closed and we did not). From /proc/net/tcp{,6}.
 */
export function openConnectionsTo(port: number): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const remotePort = parseInt((f[2] as string).split(':')[1] ?? '', 16);
      const state = f[3];
      if (remotePort === port && (state === '01' || state === '08')) n++;
    }
  }
  return n;
}

/** Polls an (async) condition until it holds; throws with `what` (and the last value seen) after the deadline. */
export async function eventually<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Byte equality with a short description of the first difference (not a dump of both buffers). */
export function assertBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.ok(actual.equals(expected), `${what}: ${firstDifference(actual, expected)}`);
}
