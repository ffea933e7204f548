/**
 * A POP3 socket fuzzer: random and mutated command lines (from a grammar of real POP3 commands),
 * SASL exchanges and pipelined bursts against a live popgate child process with Maildir users.
 * Used by test/protocol/fuzz.test.ts (bounded, fixed seed) and bench/fuzz.ts (long runs).
 *
 * Every reply is parsed in step with what was sent: each LF-terminated line the server can see
 * gets exactly one answer, `+OK`/`-ERR` lines at most 512 octets, SASL `+ <base64>` only inside
 * an AUTH exchange, and a multi-line body (until the lone ".") only after `+OK` to CAPA,
 * LIST/UIDL without argument, RETR, TOP and AUTH without argument. A RETR body must be the
 * message's bytes. The server may close only after QUIT, or right after an `-ERR` once
 * `maxBadCommands` errors were answered, or right after the `-ERR` to a line over 255 octets
 * (the planned line-limit fix closes then). After each session the user's Maildir must be
 * unchanged, unless the session deleted with DELE and a clean QUIT (then exactly those files
 * are gone; they are put back). At the end the process must still serve a well-behaved session,
 * and its memory stay bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { MAX_COMMANDS_BEFORE_LOGIN } from '../../src/limits.js';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { freePorts } from './dovecot.js';
import { addMessage, makeMaildir, toCrlf } from './maildir.js';

/**
 * Sessions may end in an over-long line with no line end at all, then silence: the gateway must
 * answer `-ERR` and close as soon as the limit is passed (it once waited for the line end for
 * ever). POPGATE_FUZZ_UNTERMINATED_OVERLONG=0 leaves that case out.
 */
export const FUZZ_OVERLONG_WITHOUT_LINE_END = process.env.POPGATE_FUZZ_UNTERMINATED_OVERLONG !== '0';

const MAX_REPLY_LINE = 512;
const COMMAND_LIMIT = 255;
const SASL_LINE_LIMIT = 65_536;
const MAX_BAD_COMMANDS = 4;
const REPLY_TIMEOUT_MS = 5000;

// ------------------------------------------------------------------ seeded randomness

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

// ------------------------------------------------------------------ the gateway under test

export interface FuzzUser {
  readonly name: string;
  readonly password: string;
  readonly maildir: string;
  /** The messages as written (LF line ends), in listing order. */
  readonly messages: readonly { readonly file: string; readonly content: Buffer }[];
}

export interface FuzzGateway {
  readonly port: number;
  readonly pid: number;
  readonly users: readonly FuzzUser[];
  /** Resident set size and its peak (VmRSS, VmHWM), in octets. */
  memory(): { rss: number; peak: number };
  /** The JS heap plus Buffer memory in use after a full garbage collection in the child (octets). */
  liveHeap(): Promise<number>;
  /** The process exited (crashed). */
  exited(): string | undefined;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const GC_PROBE = new URL('./gc-probe.js', import.meta.url).href;

function fuzzMessages(user: number): Buffer[] {
  return [
    Buffer.from(`From: a@example.com\nSubject: plain ${user}\n\nHello.\n`),
    Buffer.from(`From: b@example.com\r\nSubject: crlf\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n`),
    Buffer.from(`Subject: no final line end\n\nlast line`),
    Buffer.concat([Buffer.from('Subject: 8bit \xe9\xff\n\nNUL \0 and bare CR \r here\n', 'latin1')]),
    Buffer.from(`Subject: long\n\n${'x'.repeat(3000)}\n${'y'.repeat(100)}\n`.repeat(4)),
  ];
}

export async function startFuzzGateway(userCount: number): Promise<FuzzGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-fuzz-'));
  const usersFile = join(dir, 'users.yaml');
  const users: FuzzUser[] = [];
  const entries: [string, string][] = [];
  for (let u = 0; u < userCount; u++) {
    const name = `fuzz${u}`;
    const password = `pw${u}`;
    const maildir = makeMaildir(join(dir, 'mail', name));
    const messages = fuzzMessages(u).map((content, i) => ({
      file: addMessage(maildir, content, { time: 1_600_000_000 + i, sizeFields: i % 2 === 0 }),
      content,
    }));
    users.push({ name, password, maildir, messages });
    entries.push([name, await hashPassword(password)]);
  }
  new UsersFile(usersFile).update((map) => {
    for (const [name, password] of entries) map.set(name, { password });
  });
  const [port] = (await freePorts(1)) as [number];
  const configPath = join(dir, 'popgate.yaml');
  writeFileSync(
    configPath,
    stringify({
      listeners: [{ host: '127.0.0.1', port, tls: 'none' }],
      tenants: { main: { adapter: 'maildir', path: join(dir, 'mail', '{user}'), users: usersFile } },
      defaultTenant: 'main',
      allowPlaintextAuth: 'always',
      auth: { mechanisms: ['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER', 'CRAM-MD5'], apop: true },
      limits: { authFailureDelayMs: 0, maxBadCommands: MAX_BAD_COMMANDS },
      log: { level: 'warn' },
    }),
  );
  let log = '';
  const probeFile = join(dir, 'gc-probe.json');
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, '--expose-gc', '--import', GC_PROBE, CLI, 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POPGATE_GC_PROBE_FILE: probeFile },
  });
  const keep = (c: Buffer): void => {
    log = (log + c.toString('utf8')).slice(-50_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitInfo: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exitInfo = signal ?? `exit ${String(code)}`), resolve())));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exitInfo !== undefined) throw new Error(`popgate exited at start (${exitInfo}): ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => (s.end('QUIT\r\n'), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`popgate did not listen: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = (): string => readFileSync(`/proc/${child.pid as number}/status`, 'latin1');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status())?.[1] ?? NaN) * 1024;
  return {
    port,
    pid: child.pid as number,
    users,
    memory: () => ({ rss: kib('VmRSS'), peak: kib('VmHWM') }),
    exited: () => exitInfo,
    async liveHeap() {
      rmSync(probeFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 10));
        try {
          const usage = JSON.parse(readFileSync(probeFile, 'utf8')) as { heapUsed: number; arrayBuffers: number };
          return usage.heapUsed + usage.arrayBuffers;
        } catch {
          // Not written yet.
        }
      }
      throw new Error('the gc probe did not answer');
    },
    logTail: (lines = 20) => log.trim().split('\n').slice(-lines).join('\n'),
    async stop() {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitedPromise;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ input generation

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

// ------------------------------------------------------------------ the checker

interface Model {
  state: 'AUTHORIZATION' | 'TRANSACTION';
  /** The previous answer was a SASL challenge: the next line is the client's answer. */
  inSasl: boolean;
  errors: number;
  /** Message numbers DELE'd (+OK) since the last RSET. */
  deleted: Set<number>;
  quitOk: boolean;
  quitInTransaction: boolean;
  /** The last answer was an -ERR after which the server may close (maxBadCommands, over-long line). */
  closeAllowed: boolean;
  /** Command lines (not SASL answers) sent before login: past MAX_COMMANDS_BEFORE_LOGIN the server closes. */
  commandsBeforeLogin: number;
}

class Violation extends Error {}

/** Reads from a socket with a buffer; every wait is bounded. */
class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  constructor(socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
      this.wake?.();
    });
    const end = (): void => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => undefined);
  }
  get isEnded(): boolean {
    return this.ended && this.buf.length === 0;
  }
  get pending(): number {
    return this.buf.length;
  }
  private async until<T>(take: () => T | undefined, what: string, timeoutMs = REPLY_TIMEOUT_MS): Promise<T | 'closed'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.ended) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) throw new Violation(`no ${what} within ${timeoutMs} ms (unread: ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }
  /** One CRLF line (without it), or the string 'closed'. */
  line(what: string): Promise<string> {
    return this.until(() => {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) {
        if (this.buf.length > 64 * 1024 * 1024) throw new Violation('a reply line without end');
        return undefined;
      }
      const l = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + 2);
      return l;
    }, what);
  }
  /** A multi-line body up to the lone ".", still stuffed, as lines. */
  async body(what: string): Promise<string[] | 'closed'> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line(what);
      if (l === 'closed') return 'closed';
      if (l === '.') return out;
      out.push(l);
    }
  }
  /** Waits until the server closes; fails if it sends anything first. */
  async closed(what: string, timeoutMs = REPLY_TIMEOUT_MS): Promise<void> {
    const r = await this.until(() => (this.buf.length > 0 ? this.buf.toString('latin1') : undefined), what, timeoutMs);
    if (r !== 'closed') throw new Violation(`data after the last answer (${what}): ${JSON.stringify(r.slice(0, 200))}`);
  }
}

const STATUS = /^(\+OK|-ERR)( [\x20-\x7e]*)?$/;
const CHALLENGE = /^\+ [A-Za-z0-9+/]*={0,2}$/;

function checkStatusLine(line: string, what: string): void {
  if (Buffer.byteLength(line, 'latin1') + 2 > MAX_REPLY_LINE) throw new Violation(`reply line of ${line.length + 2} octets to ${what}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The command as the server parses it, or undefined when it could never be accepted. */
function parse(raw: Buffer): { name: string; args: string[] } | undefined {
  let text: string;
  try {
    text = utf8.decode(raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw);
  } catch {
    return undefined;
  }
  const line = text.replace(/^[ \t]+/, '');
  const space = line.search(/[ \t]/);
  const name = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const rest = space < 0 ? '' : line.slice(space + 1);
  return { name, args: rest.split(/[ \t]+/).filter((a) => a !== '') };
}

function describe(raw: Buffer): string {
  const s = raw.toString('latin1');
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 60)}...(${s.length} octets)` : s);
}

/**
 * Checks one answer (and its body) to the line `raw` (as the server split it, without LF).
 * Returns 'closed' when the server closed (legitimately) after it.
 */
async function checkAnswer(reader: ReplyReader, raw: Buffer, model: Model, user: FuzzUser): Promise<'ok' | 'closed'> {
  const what = describe(raw);
  const status = await reader.line(`the answer to ${what}`);
  if (status === 'closed') {
    if (model.closeAllowed) return 'closed';
    throw new Violation(`closed without answering ${what}`);
  }
  model.closeAllowed = false;
  checkStatusLine(status, what);
  if (!model.inSasl && model.state === 'AUTHORIZATION' && ++model.commandsBeforeLogin > MAX_COMMANDS_BEFORE_LOGIN) {
    if (!status.startsWith('-ERR')) throw new Violation(`command ${model.commandsBeforeLogin} before login answered ${JSON.stringify(status)}`);
    model.closeAllowed = true;
    return 'ok';
  }
  if (model.inSasl) {
    model.inSasl = false;
    if (CHALLENGE.test(status)) {
      model.inSasl = true;
      return 'ok';
    }
    if (!STATUS.test(status)) throw new Violation(`malformed answer ${JSON.stringify(status)} to SASL line ${what}`);
    if (status.startsWith('+OK')) model.state = 'TRANSACTION';
    else return afterError(raw, model);
    return 'ok';
  }
  const cmd = parse(raw);
  if (CHALLENGE.test(status)) {
    if (cmd?.name !== 'AUTH' || cmd.args.length === 0 || model.state !== 'AUTHORIZATION')
      throw new Violation(`SASL challenge ${JSON.stringify(status)} to ${what}`);
    model.inSasl = true;
    return 'ok';
  }
  if (!STATUS.test(status)) throw new Violation(`malformed answer ${JSON.stringify(status)} to ${what}`);
  if (status.startsWith('-ERR')) {
    if (cmd?.name === 'QUIT' && model.state === 'TRANSACTION') throw new Violation(`QUIT failed: ${status}`);
    return afterError(raw, model);
  }
  const content = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.length - 1 : raw.length;
  if (cmd === undefined || (content + 2 > COMMAND_LIMIT && cmd.name !== 'AUTH') || raw.includes(0))
    throw new Violation(`+OK to a line the server must refuse: ${what} -> ${status}`);
  const { name, args } = cmd;
  const multi =
    name === 'CAPA' ||
    ((name === 'LIST' || name === 'UIDL') && args.length === 0) ||
    name === 'RETR' ||
    name === 'TOP' ||
    (name === 'AUTH' && args.length === 0);
  if (multi) {
    const body = await reader.body(`the end of the multi-line answer to ${what}`);
    if (body === 'closed') throw new Violation(`closed inside the multi-line answer to ${what}`);
    if (name === 'RETR') {
      const n = Number(args[0]);
      const msg = user.messages[n - 1];
      if (msg === undefined) throw new Violation(`RETR ${args[0]} answered +OK for no such message`);
      const got = Buffer.from(body.map((l) => (l.startsWith('.') ? l.slice(1) : l) + '\r\n').join(''), 'latin1');
      const want = toCrlf(msg.content);
      const framed = want.length > 0 && want[want.length - 1] !== 0x0a ? Buffer.concat([want, Buffer.from('\r\n')]) : want;
      if (!got.equals(framed)) throw new Violation(`RETR ${n} sent other bytes than message ${n}`);
      const size = /^\+OK (\d+) octets/.exec(status);
      if (size !== null && Number(size[1]) !== want.length) throw new Violation(`RETR ${n} announced ${size[1]} octets, sent ${want.length}`);
    } else if (name !== 'TOP') {
      for (const l of body) {
        checkStatusLine(l, what);
        if (!/^[\x20-\x7e]*$/.test(l)) throw new Violation(`non-printable line ${JSON.stringify(l)} in the answer to ${what}`);
      }
    }
  }
  if (name === 'PASS' || name === 'APOP' || (name === 'AUTH' && args.length > 0)) model.state = 'TRANSACTION';
  if (name === 'DELE') model.deleted.add(Number(args[0]));
  if (name === 'RSET') model.deleted.clear();
  if (name === 'QUIT') {
    model.quitOk = true;
    model.quitInTransaction = model.state === 'TRANSACTION';
    await reader.closed('QUIT');
    return 'closed';
  }
  if (name === 'STLS') throw new Violation('STLS accepted on a plain listener');
  return 'ok';
}

/** The gateway's limit for the line being received: SASL answers and AUTH lines before login may be long. */
function lineLimit(partial: Buffer, model: Model): number {
  if (model.inSasl) return SASL_LINE_LIMIT;
  if (model.state === 'AUTHORIZATION' && /^[ \t]*AUTH[ \t]/i.test(partial.subarray(0, 16).toString('latin1'))) return SASL_LINE_LIMIT;
  return COMMAND_LIMIT;
}

function afterError(raw: Buffer, model: Model): 'ok' {
  model.errors++;
  // The server may close now: after the maxBadCommands-th error, or after an over-long line
  // (answered -ERR, then closed).
  model.closeAllowed = model.errors >= MAX_BAD_COMMANDS || raw.length + 2 > COMMAND_LIMIT;
  return 'ok';
}

function snapshot(maildir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of ['new', 'cur', 'tmp']) {
    for (const f of readdirSync(join(maildir, sub)))
      out.set(
        `${sub}/${f}`,
        createHash('sha256')
          .update(readFileSync(join(maildir, sub, f)))
          .digest('hex'),
      );
  }
  return out;
}

export interface SessionOutcome {
  readonly sent: number;
  readonly answered: number;
  readonly deleted: number;
  readonly closedByServer: boolean;
}

/** Runs one generated session and checks it; throws an Error describing the violation. */
export async function runSession(port: number, user: FuzzUser, session: FuzzSession): Promise<SessionOutcome> {
  const before = snapshot(user.maildir);
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const reader = new ReplyReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const model: Model = {
    state: 'AUTHORIZATION',
    inSasl: false,
    errors: 0,
    deleted: new Set(),
    quitOk: false,
    quitInTransaction: false,
    closeAllowed: false,
    commandsBeforeLogin: 0,
  };
  let answered = 0;
  let closedByServer = false;
  let pendingLine: Buffer = Buffer.alloc(0);
  try {
    const greeting = await reader.line('the greeting');
    if (greeting === 'closed' || !/^\+OK [\x20-\x7e]*$/.test(greeting)) throw new Violation(`bad greeting ${JSON.stringify(greeting)}`);
    outer: for (const write of session.writes) {
      socket.write(write);
      // The lines the server can now see in full, in order.
      let data = pendingLine.length === 0 ? write : Buffer.concat([pendingLine, write]);
      for (let lf = data.indexOf(0x0a); lf >= 0; lf = data.indexOf(0x0a)) {
        const raw = data.subarray(0, lf);
        data = data.subarray(lf + 1);
        if ((await checkAnswer(reader, raw, model, user)) === 'closed') {
          closedByServer = true;
          break outer;
        }
        answered++;
      }
      pendingLine = Buffer.from(data);
      // A line that has reached its limit without its line end is answered at once, and closed.
      if (pendingLine.length >= lineLimit(pendingLine, model)) {
        if (model.closeAllowed || (model.state === 'AUTHORIZATION' && model.commandsBeforeLogin >= MAX_COMMANDS_BEFORE_LOGIN)) {
          closedByServer = true;
          break;
        }
        const status = await reader.line('the -ERR to an over-long line without line end');
        if (status === 'closed' || !status.startsWith('-ERR')) throw new Violation(`over-long line without line end: got ${JSON.stringify(status)}, not -ERR`);
        await reader.closed('after the over-long line');
        closedByServer = true;
        break;
      }
    }
    if (!closedByServer && reader.pending > 0) throw new Violation(`unexpected data: ${JSON.stringify(await reader.line('extra'))}`);
  } finally {
    socket.destroy();
  }
  // The Maildir: unchanged, unless DELE + a clean QUIT removed exactly those messages.
  const after = snapshot(user.maildir);
  const expectGone = model.quitOk && model.quitInTransaction ? [...model.deleted].map((n) => user.messages[n - 1]?.file) : [];
  const gone = [...before.keys()].filter((k) => !after.has(k));
  const goneFiles = gone.map((k) => k.slice(4)).sort();
  const expected = expectGone.filter((f): f is string => f !== undefined).sort();
  if (JSON.stringify(goneFiles) !== JSON.stringify(expected))
    throw new Violation(`Maildir changed: gone ${JSON.stringify(goneFiles)}, expected ${JSON.stringify(expected)}`);
  for (const [k, h] of after) if (before.get(k) !== h) throw new Violation(`Maildir changed: ${k} is new or different`);
  // Put deleted messages back (same names, same bytes) for the next session.
  for (const k of gone) {
    const m = user.messages.find((x) => x.file === k.slice(4));
    if (m !== undefined) writeFileSync(join(user.maildir, k), m.content);
  }
  return { sent: session.writes.length, answered, deleted: goneFiles.length, closedByServer };
}

/** A well-behaved session: login, STAT, UIDL, RETR 1, QUIT; throws unless all is as expected. */
export async function wellBehavedSession(port: number, user: FuzzUser): Promise<void> {
  const lines = [`USER ${user.name}`, `PASS ${user.password}`, 'STAT', 'UIDL', 'RETR 1', 'QUIT'];
  const outcome = await runSession(port, user, { writes: lines.map((l) => Buffer.from(l + '\r\n')), end: 'quit' });
  if (!outcome.closedByServer || outcome.answered !== lines.length - 1)
    throw new Error(`the well-behaved session did not complete: ${JSON.stringify(outcome)}`);
}

export interface FuzzReport {
  readonly seed: number;
  readonly sessions: number;
  readonly lines: number;
  readonly deletions: number;
  readonly serverCloses: number;
  readonly rssStart: number;
  readonly rssEnd: number;
  readonly rssPeak: number;
  /** JS heap after a full GC, before and after the run. */
  readonly heapStart: number;
  readonly heapEnd: number;
}

export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly session: FuzzSession,
  ) {
    super(message);
  }
}

/**
 * Runs `runs` sessions over `workers` parallel users (each worker its own user, so no maildrop
 * lock is contended), all derived from `seed`. Throws FuzzFailure with the failing session.
 */
export async function fuzz(
  gw: FuzzGateway,
  opts: { seed: number; runs: number; unterminatedOverlong?: boolean; onProgress?: (done: number) => void },
): Promise<FuzzReport> {
  const workers = gw.users.length;
  const rssStart = gw.memory().rss;
  const heapStart = await gw.liveHeap();
  let sessions = 0;
  let lines = 0;
  let deletions = 0;
  let serverCloses = 0;
  await Promise.all(
    gw.users.map(async (user, w) => {
      const rng = new Rng(opts.seed * 31 + w);
      for (let i = w; i < opts.runs; i += workers) {
        const session = generateSession(rng, user, { unterminatedOverlong: opts.unterminatedOverlong ?? FUZZ_OVERLONG_WITHOUT_LINE_END });
        try {
          const o = await runSession(gw.port, user, session);
          lines += o.answered;
          deletions += o.deleted;
          if (o.closedByServer) serverCloses++;
        } catch (err) {
          const crashed = gw.exited();
          throw new FuzzFailure(
            `seed ${opts.seed}, session ${i} (user ${user.name}): ${(err as Error).message}${crashed !== undefined ? ` [popgate exited: ${crashed}]` : ''}\nwrites: ${JSON.stringify(session.writes.map((b) => b.toString('latin1').slice(0, 300)))}\nlog: ${gw.logTail()}`,
            session,
          );
        }
        sessions++;
        opts.onProgress?.(sessions);
      }
    }),
  );
  const crashed = gw.exited();
  if (crashed !== undefined) throw new Error(`popgate exited: ${crashed}\n${gw.logTail()}`);
  for (const user of gw.users) await wellBehavedSession(gw.port, user);
  const mem = gw.memory();
  const heapEnd = await gw.liveHeap();
  return { seed: opts.seed, sessions, lines, deletions, serverCloses, rssStart, rssEnd: mem.rss, rssPeak: mem.peak, heapStart, heapEnd };
}
