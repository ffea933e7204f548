/** Maildir fixtures. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let counter = 0;

export function makeMaildir(root: string): string {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(root, sub), { recursive: true });
  return root;
}

/**
 * Writes a message file. With `sizeFields` the name carries ,S= and ,W= (as Dovecot writes);
 * without, the gateway has to compute the size itself.
 */
export function addMessage(
  maildir: string,
  content: string | Buffer,
  opts: { sizeFields?: boolean; sub?: 'new' | 'cur'; time?: number; flags?: string } = {},
): string {
  makeMaildir(maildir);
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const time = opts.time ?? 1_700_000_000 + counter;
  counter++;
  let name = `${time}.M${counter}P${process.pid}.test`;
  if (opts.sizeFields ?? true) name += `,S=${body.length},W=${crlfLength(body)}`;
  const sub = opts.sub ?? 'new';
  if (sub === 'cur') name += `:2,${opts.flags ?? ''}`;
  writeFileSync(join(maildir, sub, name), body);
  return name;
}

export function crlfLength(body: Buffer): number {
  let n = body.length;
  for (let i = 0; i < body.length; i++) if (body[i] === 0x0a && (i === 0 || body[i - 1] !== 0x0d)) n++;
  return n;
}

/** The message as a POP3 client must receive it: bare LF -> CRLF. */
export function toCrlf(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

export function messageFiles(maildir: string): string[] {
  return ['new', 'cur'].flatMap((sub) => readdirSync(join(maildir, sub)).map((f) => `${sub}/${f}`)).sort();
}

/** A simple RFC 5322 message with LF line ends. */
export function sampleMessage(n: number, body = `Body of message ${n}.\n`): string {
  return `From: sender@example.com\nTo: rcpt@example.com\nSubject: message ${n}\nMessage-ID: <m${n}@example.com>\n\n${body}`;
}
