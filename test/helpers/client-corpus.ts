/**
 * A varied set of fixture messages for the real-client tests, and what a POP3 client must end
 * up with for each of them.
 *
 * Every line is at most 1,000 octets (Python's poplib refuses lines over 2,048 octets), every
 * address is fully qualified (so fetchmail's documented `rewrite` of unqualified addresses has
 * nothing to do), and every message has a distinct Subject.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addMessage } from './maildir.js';

export interface CorpusMessage {
  /** Short label shown in assertion messages. */
  readonly label: string;
  /** The file content as stored in the Maildir. */
  readonly content: Buffer;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const hdr = (n: number, extra = ''): string =>
  `From: Sender ${n} <sender${n}@example.com>\nTo: rcpt@example.org\nSubject: corpus ${n}\nMessage-ID: <corpus-${n}@example.com>\n${extra}`;

/** A ~2 MB message with many dot lines spread over it (dot-stuffing across stream chunks). */
function bigMessage(n: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 2_100_000; i++) {
    let line: string;
    if (i % 97 === 0) line = '.';
    else if (i % 13 === 0) line = `.line ${i} starts with a dot`;
    else if (i % 31 === 0) line = `..two dots on line ${i}`;
    else line = `line ${i.toString().padStart(7, '0')} ` + 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, 40 + (i % 23));
    lines.push(line);
    size += line.length + 1;
  }
  return b(hdr(n) + '\n' + lines.join('\n') + '\n');
}

/** ~30 messages: LF and CRLF ends, dot lines, lone dots, 8-bit text, no final newline, 2 MB, headers only, ... */
export function corpus(): CorpusMessage[] {
  const m: CorpusMessage[] = [];
  const add = (label: string, content: string | Buffer): void => {
    m.push({ label: `${m.length + 1} ${label}`, content: typeof content === 'string' ? b(content) : content });
  };
  const n = (): number => m.length + 1;
  add('LF line ends', hdr(n()) + '\nA plain message with LF line ends.\nSecond line.\n');
  add('CRLF line ends', (hdr(n()) + '\nA plain message stored with CRLF.\nSecond line.\n').replaceAll('\n', '\r\n'));
  add('lines starting with dots', hdr(n()) + '\n.one dot\n..two dots\n...three dots\n. dot space\n.\ttab\nend\n');
  add('a lone dot line in the middle', hdr(n()) + '\nbefore\n.\nafter\n');
  add('a lone dot as the last line', hdr(n()) + '\nthe next line is a lone dot\n.\n');
  add('a lone dot without final newline', hdr(n()) + '\nlast line is a lone dot without newline\n.');
  add(
    '8-bit UTF-8',
    hdr(n(), 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n') + '\nGrüße, naïve café, 日本語, emoji 📬.\nΚαλημέρα κόσμε\n',
  );
  add('no final newline', hdr(n()) + '\nThis message does not end with a line break.');
  add('about 2 MB with dot lines', bigMessage(n()));
  add('headers only, no blank line', hdr(n()));
  add('headers and a blank line, empty body', hdr(n()) + '\n');
  add('mixed CRLF and LF', hdr(n()).replaceAll('\n', '\r\n') + '\r\nline with CRLF\r\nline with LF\nagain CRLF\r\nand LF at the end\n');
  add('a 998-octet line', hdr(n()) + '\n' + 'x'.repeat(998) + '\nshort\n');
  add('folded headers', hdr(n(), 'X-Folded: first part\n\tsecond part after a tab\n    third part after spaces\n') + '\nbody\n');
  add('trailing white space and tab-only lines', hdr(n()) + '\ntrailing spaces   \n\t\n \nend\t\n');
  add('many blank lines at the end', hdr(n()) + '\nbody\n\n\n\n\n');
  add('blank lines at the start of the body', hdr(n()) + '\n\n\n\nbody after blank lines\n');
  add('"From " lines in the body', hdr(n()) + '\nFrom the start of a line\n>From quoted already\nFrom: not a header\n');
  add(
    'MIME multipart with base64',
    hdr(n(), 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n') +
      '\nPreamble.\n--b1\nContent-Type: text/plain\n\nPart one.\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n' +
      Buffer.alloc(300, 0xa5)
        .toString('base64')
        .replace(/(.{76})/g, '$1\n') +
      '\n--b1--\nEpilogue.\n',
  );
  add('lines of only dots', hdr(n()) + '\n..\n...\n....\n.\n..\n');
  add('CRLF dot CRLF inside a CRLF message', (hdr(n()) + '\nbefore\n.\nafter the terminator look-alike\n').replaceAll('\n', '\r\n'));
  add(
    'existing Received and Status headers',
    'Received: from mx.example.com by mail.example.org; Mon, 1 Jan 2024 00:00:00 +0000\nStatus: RO\n' + hdr(n()) + '\nbody\n',
  );
  add('500 short lines', hdr(n()) + '\n' + Array.from({ length: 500 }, (_, i) => `l${i}`).join('\n') + '\n');
  add('quoted-printable soft breaks', hdr(n(), 'Content-Transfer-Encoding: quoted-printable\n') + '\nsoft=\nbreak and =3D sign=\n\n.=2E dot\n');
  add('CRLF without final newline', (hdr(n()) + '\nCRLF message without final line break').replaceAll('\n', '\r\n'));
  add('encoded-word Subject', hdr(n(), 'X-Note: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n') + '\nshort\n');
  add('one-character body', hdr(n()) + '\nx\n');
  add('a body line that is a single space then a dot', hdr(n()) + '\n .\n. \n');
  add('long header line (900 octets, unfolded)', hdr(n(), `X-Long: ${'word '.repeat(180).trimEnd()}\n`) + '\nbody\n');
  add('last message, plain', hdr(n()) + '\nThe end of the corpus.\n');
  return m;
}

/** A smaller set (no 2 MB message) for tests that only need a few varied messages. */
export function smallCorpus(): CorpusMessage[] {
  return corpus()
    .filter((c) => c.content.length < 100_000)
    .slice(0, 8);
}

/** Stores the messages in order (fixed, increasing times so the gateway numbers them in order). */
export function storeCorpus(maildir: string, messages: readonly CorpusMessage[], opts: { sizeFields?: boolean } = {}): void {
  messages.forEach((msg, i) => addMessage(maildir, msg.content, { time: 1_600_000_000 + i, sizeFields: opts.sizeFields ?? i % 2 === 0 }));
}

/** Bare LF -> CRLF (CRLF stays). */
export function crlf(content: Buffer): Buffer {
  return Buffer.from(content.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/**
 * What a POP3 client must receive for a message after un-stuffing: CRLF line ends, and a CRLF
 * added when the message lacks a final line end (RFC 1939: the terminator is CRLF.CRLF).
 */
export function wireBody(content: Buffer): Buffer {
  const c = crlf(content);
  return c.length === 0 || c[c.length - 1] === 0x0a ? c : Buffer.concat([c, Buffer.from('\r\n')]);
}

/** The size LIST/STAT/RETR must announce: CRLF octets, without the CRLF the server adds. */
export function wireSize(content: Buffer): number {
  return crlf(content).length;
}

/** The wire body with CRLF turned into LF (what mpop and fetchmail give an MDA). */
export function lfBody(content: Buffer): Buffer {
  return Buffer.from(wireBody(content).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

/** Files of a delivery folder, sorted by name, read as buffers. */
export function deliveredFiles(dir: string): { name: string; content: Buffer }[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((name) => ({ name, content: readFileSync(join(dir, name)) }));
}

/** A short description of where two buffers first differ (for assertion messages). */
export function firstDifference(actual: Buffer, expected: Buffer): string {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return 'identical';
  const show = (x: Buffer): string => JSON.stringify(x.subarray(Math.max(0, i - 40), i + 40).toString('latin1'));
  return `lengths ${actual.length} vs ${expected.length}; first difference at octet ${i}: got ${show(actual)}, expected ${show(expected)}`;
}
