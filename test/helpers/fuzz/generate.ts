/**
 * The fuzzer's input generation (test/helpers/pop3-fuzz.ts): a grammar of real POP3 commands,
 * SASL exchanges, byte-level mutations, and pipelined or split writes.
 */
import { type FuzzUser } from './gateway.js';
import { COMMAND_LIMIT } from './limits.js';
import { type Rng } from './rng.js';

const COMMAND_NAMES = ['USER', 'PASS', 'APOP', 'AUTH', 'STLS', 'CAPA', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'QUIT', 'TOP', 'UIDL', 'LAST'] as const;

/** One write to the socket: its bytes, or a pause so the server sees separate packets. */
export type FuzzWrite = Buffer<ArrayBufferLike>;

/** A session's input: writes, each followed by reading every answer due so far. */
export interface FuzzSession {
  readonly writes: readonly FuzzWrite[];
  /** Ends with QUIT (clean) or by dropping the connection. */
  readonly end: 'quit' | 'drop';
  /** Generated with FUZZ_OVERLONG_WITHOUT_LINE_END: may end in an over-long line without line end. */
  readonly unterminatedOverlong?: boolean;
}

function b64(s: string | Buffer): string {
  return (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
}

function messageNumber(rng: Rng): string {
  return rng.pick(['1', '2', '3', '4', '5', '6', '0', '-1', '99999999999999999999999', '4294967297', '1e3', '0x1', '+1', '01', String(rng.int(1, 9))]);
}

function plainCommand(rng: Rng, user: FuzzUser): string {
  const name = rng.chance(0.08) ? rng.pick(['XYZZY', 'HELO', 'EHLO', 'GET', 'LOGIN', 'RETRX', '']) : rng.pick(COMMAND_NAMES);
  switch (name) {
    case 'USER':
      return `USER ${rng.pick([user.name, user.name, 'nobody', `${user.name}@example.com`, 'recent:' + user.name, ''])}`;
    case 'PASS':
      return `PASS ${rng.pick([user.password, 'wrong', '', 'a b c'])}`;
    case 'APOP':
      return `APOP ${user.name} ${rng.pick(['0123456789abcdef0123456789abcdef', 'zz', ''])}`;
    case 'AUTH':
      return rng.chance(0.3)
        ? 'AUTH'
        : `AUTH ${rng.pick(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'OAUTHBEARER', 'GSSAPI', 'plain'])}${rng.chance(0.5) ? ' ' + saslBlob(rng, user) : ''}`;
    case 'LIST':
    case 'UIDL':
      return rng.chance(0.5) ? name : `${name} ${messageNumber(rng)}`;
    case 'RETR':
    case 'DELE':
      return `${name} ${messageNumber(rng)}`;
    case 'TOP':
      return `TOP ${messageNumber(rng)} ${rng.pick(['0', '1', '2', '99999999', '-1', '99999999999999999999', 'x'])}`;
    case 'QUIT':
      // QUIT ends the session: only as the planned last command (see generateSession), else NOOP.
      return 'NOOP';
    default:
      return rng.chance(0.1) ? `${name} ${messageNumber(rng)}` : name;
  }
}

function saslBlob(rng: Rng, user: FuzzUser): string {
  return rng.pick([
    b64(`\0${user.name}\0${user.password}`),
    b64(`\0${user.name}\0wrong`),
    b64(`${user.name}\0${user.name}\0${user.password}`),
    b64(rng.bytes(rng.int(0, 40))),
    '=',
    '*',
    '',
    'not base64!',
    'QUJD', // "ABC"
    'QQ=',
    b64(rng.bytes(rng.int(300, 2000))),
    b64(user.name),
    b64(user.password),
  ]);
}

/** A login that works (USER/PASS, AUTH PLAIN with or without initial response, AUTH LOGIN). */
function goodLogin(rng: Rng, user: FuzzUser): string[] {
  switch (rng.int(0, 3)) {
    case 0:
      return [`USER ${user.name}`, `PASS ${user.password}`];
    case 1:
      return [`AUTH PLAIN ${b64(`\0${user.name}\0${user.password}`)}`];
    case 2:
      return ['AUTH PLAIN', b64(`\0${user.name}\0${user.password}`)];
    default:
      return ['AUTH LOGIN', b64(user.name), b64(user.password)];
  }
}

/** Byte-level mutations of one command line (without its line end). */
function mutate(rng: Rng, line: string, unterminatedOverlong: boolean): { bytes: Buffer; ending: '\r\n' | '\n' | '' } {
  let text = line;
  if (rng.chance(0.15)) text = [...text].map((c) => (rng.chance(0.5) ? c.toLowerCase() : c.toUpperCase())).join('');
  if (rng.chance(0.1)) text = rng.pick([' ', '\t', '  ']) + text;
  if (rng.chance(0.1)) text = text.replace(/ /g, () => rng.pick(['  ', '\t', ' \t ']));
  if (rng.chance(0.08)) text += rng.pick([' ', '\t', '   ']);
  if (rng.chance(0.05)) text += ' 99999999999999999999999999999999';
  let bytes = Buffer.from(text, 'utf8');
  if (rng.chance(0.05)) bytes = Buffer.concat([bytes, Buffer.from(rng.pick([[0xc3, 0x28], [0xff], [0xe2, 0x82], [0xed, 0xa0, 0x80]]))]);
  if (rng.chance(0.04)) {
    const at = rng.int(0, bytes.length);
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]);
  }
  if (rng.chance(0.02)) bytes = Buffer.concat([bytes, rng.bytes(rng.int(1, 30))].map((b) => Buffer.from(b.map((x) => (x === 0x0a ? 0x20 : x)))));
  if (rng.chance(0.04)) {
    // Over-long: past 255 octets; now and then past the 64 KiB SASL line limit too.
    const n = rng.chance(0.1) ? rng.int(65_536, 70_000) : rng.int(254, 1200);
    bytes = Buffer.concat([bytes, Buffer.alloc(n, rng.pick([0x41, 0x20, 0x2e]))]);
    if (unterminatedOverlong && rng.chance(0.3)) return { bytes, ending: '' };
  }
  const ending = rng.chance(0.15) ? '\n' : rng.chance(0.05) ? '' : '\r\n';
  return { bytes, ending };
}

export function generateSession(rng: Rng, user: FuzzUser, opts: { unterminatedOverlong?: boolean } = {}): FuzzSession {
  const lines: { bytes: Buffer; ending: string }[] = [];
  if (rng.chance(0.65)) for (const l of goodLogin(rng, user)) lines.push(rng.chance(0.1) ? mutate(rng, l, false) : { bytes: Buffer.from(l), ending: '\r\n' });
  const count = rng.int(1, 14);
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.1)) {
      // A SASL exchange in the middle (valid, garbage or cancelled answers).
      lines.push({ bytes: Buffer.from(`AUTH ${rng.pick(['PLAIN', 'LOGIN'])}`), ending: '\r\n' });
      for (let k = rng.int(1, 2); k > 0; k--) lines.push(mutate(rng, saslBlob(rng, user), false));
      continue;
    }
    if (rng.chance(0.04)) {
      lines.push({ bytes: Buffer.from(rng.bytes(rng.int(1, 300)).map((x) => (x === 0x0a ? 0x41 : x))), ending: rng.pick(['\r\n', '\n']) });
      continue;
    }
    lines.push(mutate(rng, plainCommand(rng, user), opts.unterminatedOverlong === true));
  }
  const end = rng.chance(0.7) ? 'quit' : 'drop';
  const last = lines[lines.length - 1];
  // Without the line-limit fix, an over-long line with no line end, then silence, hangs: keep
  // the last line short, or terminate it.
  if (end === 'drop' && opts.unterminatedOverlong !== true && last !== undefined && last.ending === '' && last.bytes.length + 2 > COMMAND_LIMIT)
    lines[lines.length - 1] = { ...last, ending: '\r\n' };
  if (end === 'quit') lines.push({ bytes: Buffer.from(rng.chance(0.1) ? 'quit' : 'QUIT'), ending: '\r\n' });
  // The last line of a dropped session may lack its line end (short: it merely waits).
  // Group the lines into writes: one at a time, or pipelined bursts, some split mid-line.
  const writes: FuzzWrite[] = [];
  let i = 0;
  while (i < lines.length) {
    const burst = rng.chance(0.3) ? rng.int(2, 8) : 1;
    const group = lines.slice(i, i + burst);
    i += burst;
    const data = Buffer.concat(group.map((l) => Buffer.concat([l.bytes, Buffer.from(l.ending)])));
    if (data.length > 4 && rng.chance(0.1)) {
      const cut = rng.int(1, data.length - 1);
      writes.push(data.subarray(0, cut), data.subarray(cut));
    } else {
      writes.push(data);
    }
  }
  return { writes, end, ...(opts.unterminatedOverlong === true && { unterminatedOverlong: true }) };
}
