/**
 * The fuzzer's checker (test/helpers/pop3-fuzz.ts): runs a session on a socket, parses every
 * reply in step with what was sent against a model of the session, then checks the Maildir.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { MAX_COMMANDS_BEFORE_LOGIN } from '../../../src/limits.js';
import { toCrlf } from '../maildir.js';
import { type FuzzUser } from './gateway.js';
import { type FuzzSession } from './generate.js';
import { COMMAND_LIMIT, MAX_BAD_COMMANDS } from './limits.js';

const MAX_REPLY_LINE = 512;
const SASL_LINE_LIMIT = 65_536;
const REPLY_TIMEOUT_MS = 5000;

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
