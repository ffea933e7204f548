/**
 * Generates a Maildir of realistic text mail for benchmarks: LF line ends, Received chains,
 * quoted replies, signatures, some lines starting with "." (a lone "." too), some 8-bit text,
 * some base64 attachments (random octets). The text is deterministic (seeded). Files go to new/ as an MDA leaves them,
 * named `<time>.M<i>P<pid>.popgate-bench,S=<size>,W=<crlf size>`, owned by `owner`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GeneratedMaildir {
  readonly path: string;
  readonly count: number;
  /** Sum of the messages' CRLF sizes (what STAT reports and RETR delivers). */
  readonly crlfBytes: number;
  /** SHA-256 over the sorted per-message SHA-256 hex digests of the CRLF bodies (one per line). */
  readonly digest: string;
}

export interface GenerateOptions {
  readonly path: string;
  readonly count: number;
  /** Target size of each message in octets (varies by about ±20%). */
  readonly size: number;
  readonly seed?: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'all she there would their we him been has when who will more no if out so said what up its about into than them can only ' +
  'other new some could time these two may then do first any my now such like our over man me even most made after also did ' +
  'many before must through back years where much your way well down should because each just those people how too little ' +
  'state good very make world still own see men work long get here between both life being under never day same another know ' +
  'while last might us great old year off come since against go came right used take three meeting report invoice schedule ' +
  'project budget review draft attached please thanks regards update deadline customer server backup release quarter numbers'
).split(' ');
const NAMES = ['Bob Smith', 'Carol Jones', 'Dave Müller', "Erin O'Brien", 'Frank Zhang', 'Grace Hopper', 'Heidi Schäfer', 'Ivan Petrov'];
const SUBJECTS = [
  'Quarterly report',
  'Re: meeting notes',
  'Invoice 2023-118',
  'Fwd: backup schedule',
  'Re: Re: release plan',
  'Lunch on Friday?',
  'Grüße aus Köln',
  'Server maintenance window',
];
const DOT_LINES = [
  '.',
  '..',
  '.hidden file in the home folder',
  '...and then it stopped working',
  '. (a lone dot above ends a DATA in SMTP)',
  '.profile was not read',
];
const EIGHT_BIT = ['Café crème, naïve façade, Grüße, smörgåsbord.', 'Цена: 100 ₽ — спасибо!', '日本語のテキストも少し。'];

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function sentence(r: () => number): string {
  const n = 6 + Math.floor(r() * 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(r, WORDS));
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + (r() < 0.1 ? '?' : '.');
}

/** A paragraph wrapped at 72 columns. */
function paragraph(r: () => number, prefix = ''): string[] {
  const text: string[] = [];
  const sentences = 2 + Math.floor(r() * 5);
  for (let i = 0; i < sentences; i++) text.push(sentence(r));
  const lines: string[] = [];
  let line = '';
  for (const word of text.join(' ').split(' ')) {
    if (line.length + word.length + 1 > 72 - prefix.length) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

function base64Lines(octets: number): string[] {
  const b64 = randomBytes(octets).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines;
}

function message(i: number, target: number, r: () => number, time: number): Buffer {
  const from = pick(r, NAMES);
  const fromAddr = from.toLowerCase().replace(/[^a-z]+/g, '.') + '@example.org';
  const date = new Date(time * 1000).toUTCString().replace('GMT', '+0000');
  const id = `${time}.${i}.${Math.floor(r() * 1e9).toString(36)}@mail.example.org`;
  const withAttachment = target >= 200_000 || r() < 0.25;
  const boundary = `=_part_${i}_${Math.floor(r() * 1e9).toString(36)}`;
  const head = [
    `Return-Path: <${fromAddr}>`,
    'Delivered-To: alice@example.com',
    `Received: from mx.example.org (mx.example.org [192.0.2.${1 + (i % 250)}])`,
    `\tby mail.example.com (Postfix) with ESMTPS id ${(0x100000 + i).toString(16).toUpperCase()}`,
    `\tfor <alice@example.com>; ${date}`,
    `Received: from [10.0.0.${i % 250}] (unknown [198.51.100.7])`,
    `\tby mx.example.org (Postfix) with ESMTPSA id ${(0x900000 + i).toString(16).toUpperCase()};`,
    `\t${date}`,
    `From: "${from}" <${fromAddr}>`,
    'To: Alice Example <alice@example.com>',
    `Subject: ${pick(r, SUBJECTS)} #${i}`,
    `Date: ${date}`,
    `Message-ID: <${id}>`,
    'MIME-Version: 1.0',
    withAttachment ? `Content-Type: multipart/mixed; boundary="${boundary}"` : 'Content-Type: text/plain; charset=utf-8',
    ...(withAttachment ? [] : ['Content-Transfer-Encoding: 8bit']),
    '',
  ];
  const lines = [...head];
  if (withAttachment)
    lines.push(
      'This is a multi-part message in MIME format.',
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
    );
  const textTarget = withAttachment ? Math.min(target, 4000 + Math.floor(r() * 6000)) : target;
  let size = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const push = (ls: readonly string[]): void => {
    for (const l of ls) {
      lines.push(l);
      size += Buffer.byteLength(l) + 1;
    }
  };
  push(['Hi Alice,', '']);
  const dotty = i % 3 === 0;
  for (let guard = 0; size < textTarget - 200 && guard < 100_000; guard++) {
    const kind = r();
    if (kind < 0.15) push([`On ${date}, ${pick(r, NAMES)} wrote:`, ...paragraph(r, '> '), '>', ...paragraph(r, '> > ')]);
    else if (kind < 0.2) push([pick(r, EIGHT_BIT)]);
    else if (kind < 0.27 && dotty) push([pick(r, DOT_LINES)]);
    else push(paragraph(r));
    push(['']);
  }
  if (i % 5 === 0) push(['A lone dot follows, then the text goes on:', '.', 'still the same message.']);
  push(['-- ', `${from}`, 'Example Org, Room 4.12', '.sig: this line starts with a dot']);
  if (withAttachment) {
    const binary = Math.max(1000, Math.floor(((target - size - 300) * 57) / 78));
    push([
      '',
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="data-${i}.bin"`,
      '',
    ]);
    push(base64Lines(binary));
    push(['', `--${boundary}--`]);
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

function lfToCrlf(body: Buffer): Buffer {
  return Buffer.from(body.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
}

/** Writes the Maildir (cur/, new/, tmp/ plus `count` messages in new/). */
export function generateMaildir(opts: GenerateOptions): GeneratedMaildir {
  const r = rng(opts.seed ?? 20231120);
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(opts.path, sub), { recursive: true });
  const start = Math.floor(Date.now() / 1000) - opts.count - 86_400;
  const hashes: string[] = [];
  let crlfBytes = 0;
  for (let i = 1; i <= opts.count; i++) {
    const target = Math.round(opts.size * (0.8 + 0.4 * r()));
    const body = message(i, target, r, start + i);
    const crlf = lfToCrlf(body);
    crlfBytes += crlf.length;
    hashes.push(createHash('sha256').update(crlf).digest('hex'));
    const file = join(opts.path, 'new', `${start + i}.M${i}P${process.pid}.popgate-bench,S=${body.length},W=${crlf.length}`);
    writeFileSync(file, body, { mode: 0o600 });
    if (opts.owner !== undefined) chownSync(file, opts.owner.uid, opts.owner.gid);
  }
  if (opts.owner !== undefined) {
    for (const p of [opts.path, ...['cur', 'new', 'tmp'].map((s) => join(opts.path, s))]) chownSync(p, opts.owner.uid, opts.owner.gid);
  }
  return {
    path: opts.path,
    count: opts.count,
    crlfBytes,
    digest: createHash('sha256')
      .update([...hashes].sort().join('\n'))
      .digest('hex'),
  };
}
