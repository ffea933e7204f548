/**
 * One POP3 connection: read a line, dispatch it, write the reply, in order. Pipelined commands
 * wait in the line reader; the socket is paused while too much input is queued, and no further
 * command is read while too much output is.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { InMemoryMessage } from '../../adapters/contract.js';
import type { ListenerConfig } from '../config/schema.js';
import type { ClientAddress } from './client-address.js';
import { Pop3Error } from '../errors.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  COMMANDS_PER_TURN,
  MAX_AUTH_LINE,
  MAX_COMMANDS_BEFORE_LOGIN,
  MAX_COMMAND_LINE,
  MAX_PENDING_INPUT,
  MESSAGE_READ_CHUNK,
  OUTPUT_HIGH_WATER_MARK,
  PRELOGIN_OUTPUT_CAP,
} from '../limits.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../tenants.js';
import { arityProblem } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { ConnectionClosed } from './connection-closed.js';
import { DotStuffer } from './dot-stuffer.js';
import { formatErr } from './format-reply.js';
import { LineReader, type ReadResult } from './line-reader.js';
import type { ServerContext } from './server-context.js';
import type { Session } from './session.js';
import type { SessionState, UpdateState } from './session-state.js';
import { serverHandshake } from './tls-handshake.js';
import { TopFilter } from '../../adapters/shared/top-filter.js';
import type { Transaction } from './transaction.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** An AUTH line may carry a long initial response (OAuth tokens); every other command is short. */
const AUTH_COMMAND = /^[ \t]*AUTH[ \t]/i;

export class Connection implements Session {
  readonly id = randomBytes(6).toString('hex');
  readonly remoteAddress: string;
  readonly remotePort: number | undefined;
  readonly log: Logger;
  readonly apopTimestamp: string | undefined;
  private current: SessionState = { name: 'AUTHORIZATION', pendingUser: undefined };
  private socket: Socket;
  private tlsActive: boolean;
  private readonly reader = new LineReader();
  private wake: (() => void) | undefined;
  private closed = false;
  private badCommands = 0;
  private commandsBeforeLogin = 0;
  /** The socket is corked while pipelined commands are answered (see run()). */
  private batchCorked = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private loginTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    socket: Socket,
    readonly ctx: ServerContext,
    readonly listener: ListenerConfig,
    private readonly client: ClientAddress = { address: socket.remoteAddress ?? 'unknown', port: socket.remotePort },
  ) {
    this.socket = socket;
    this.tlsActive = 'encrypted' in socket && (socket as TLSSocket).encrypted === true;
    this.remoteAddress = client.address;
    this.remotePort = client.port;
    this.log = ctx.logger.child({ session: this.id, peer: this.remoteAddress });
    // RFC 1939 asks only for a unique msg-id; a random one tells no PID or host name.
    this.apopTimestamp = ctx.apopAvailable() ? `<${randomBytes(12).toString('hex')}.${Date.now()}@popgate>` : undefined;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get state(): SessionState {
    return this.current;
  }

  get isTls(): boolean {
    return this.tlsActive;
  }

  /** The TLS SNI name the client asked for, if any (implicit TLS or STLS). */
  get serverName(): string | undefined {
    if (!this.tlsActive) return undefined;
    const name = (this.socket as TLSSocket & { servername?: string | false | null }).servername;
    return typeof name === 'string' && name !== '' ? name : undefined;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when the connection has ended and its session is cleaned up. */
  get done(): Promise<void> {
    return this.closedPromise;
  }

  start(): void {
    this.attach(this.socket);
    const { via, proxied } = this.client;
    this.log.info(
      {
        tls: this.tlsActive,
        listener: `${this.listener.host}:${this.listener.port}`,
        ...(proxied !== undefined && { proxied }),
        ...(via !== undefined && { via }),
      },
      'connect',
    );
    const stamp = this.apopTimestamp === undefined ? '' : ` ${this.apopTimestamp}`;
    this.send(`+OK popgate ready.${stamp}`);
    this.armIdle();
    // A total deadline to log in: bytes that never make a command, or silence, cannot hold
    // a connection slot longer than this.
    this.loginTimer = setTimeout(() => {
      this.log.info({ seconds: this.ctx.config.limits.loginTimeoutSeconds }, 'login timeout');
      this.close('-ERR Login timed out, closing connection.');
    }, this.ctx.config.limits.loginTimeoutSeconds * 1000);
    this.loginTimer.unref();
    void this.run();
  }

  // ------------------------------------------------------------------ input

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    if (this.wake === undefined && this.reader.pending > MAX_PENDING_INPUT) this.socket.pause();
    this.notify();
  };

  /**
   * Only complete commands and output the client takes count as activity: a byte now and
   * then, without a line end, does not keep a session alive.
   */
  private armIdle(): void {
    if (this.closed) return;
    // Re-armed on every command line and drained write: restarting the one timer is cheaper
    // than replacing it.
    if (this.idleTimer !== undefined) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.log.info('idle timeout');
      this.close('-ERR Disconnected for inactivity.');
    }, this.ctx.config.limits.idleTimeoutSeconds * 1000);
    this.idleTimer.unref();
  }

  private readonly onError = (err: Error): void => {
    // Whatever failed (a reset, a TLS renegotiation flood), the socket is done: no half-dead
    // connection may stay open.
    this.log.debug({ err: err.message }, 'socket error');
    this.destroy();
  };

  private readonly onClose = (): void => {
    this.markClosed();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The limit of the line now being received: 255 octets, or the SASL limit for AUTH before login. */
  private commandLineLimit(): number {
    if (this.current.name !== 'AUTHORIZATION') return MAX_COMMAND_LINE;
    return AUTH_COMMAND.test(this.reader.head(16).toString('latin1')) ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
  }

  /**
   * The next input line, or null once the connection is closed. A line over its limit closes
   * the connection at once (its line end may never come).
   */
  private async readLine(limit: () => number): Promise<Buffer | null> {
    for (;;) {
      const max = limit();
      const result: ReadResult | null = this.reader.next(max);
      if (result?.kind === 'line') {
        this.armIdle();
        return result.line;
      }
      if (result?.kind === 'too-long') {
        this.log.info({ limit: max }, 'line too long');
        this.close(`-ERR Line too long (over ${max} octets), closing connection.`);
        return null;
      }
      if (this.closed) return null;
      if (this.socket.isPaused()) this.socket.resume();
      // Whatever waits for the client (a SASL answer) must first let it see our replies.
      this.endBatch();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  readSaslLine(): Promise<Buffer | null> {
    return this.readLine(() => MAX_AUTH_LINE);
  }

  private readonly endBatchLater = (): void => this.endBatch();

  private endBatch(): void {
    if (!this.batchCorked) return;
    this.batchCorked = false;
    this.socket.uncork();
  }

  private async run(): Promise<void> {
    let thisTurn = 0;
    try {
      for (;;) {
        const line = await this.readLine(() => this.commandLineLimit());
        if (line === null) break;
        if (this.current.name === 'AUTHORIZATION' && ++this.commandsBeforeLogin > MAX_COMMANDS_BEFORE_LOGIN) {
          this.log.info({ commands: MAX_COMMANDS_BEFORE_LOGIN }, 'too many commands before login');
          this.close('-ERR Too many commands without logging in, closing connection.');
          break;
        }
        // Pipelined commands: the replies made in one turn of the event loop leave together
        // (fewer, larger writes). The batch ends when the client's queue is empty, or at the
        // next turn: a command waiting for its backend must not hold finished replies back.
        if (!this.batchCorked && this.reader.hasLine && !this.closed) {
          this.socket.cork();
          this.batchCorked = true;
          setImmediate(this.endBatchLater);
        }
        await this.dispatch(line);
        this.armIdle();
        if (!this.reader.hasLine) this.endBatch();
        // A client that pipelines without reading its replies waits for them to drain before
        // its next command is read (and its socket is paused once MAX_PENDING_INPUT is queued).
        await this.drain(this.current.name === 'AUTHORIZATION' ? PRELOGIN_OUTPUT_CAP : OUTPUT_HIGH_WATER_MARK);
        if (++thisTurn >= COMMANDS_PER_TURN) {
          thisTurn = 0;
          if (this.reader.hasLine) await nextTurn();
        }
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) {
        this.log.error({ err }, 'session failed');
        this.close('-ERR [SYS/TEMP] Internal error.');
      }
    }
  }

  private async dispatch(raw: Buffer): Promise<void> {
    if (raw.includes(0)) return this.badCommand(Pop3Error.badCommand('NUL octets are not allowed in commands.'));
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return this.badCommand(Pop3Error.badCommand('Invalid characters in command (not UTF-8).'));
    }
    // Leading blanks are dropped; trailing ones stay in `rest` (RFC 1939 lets a password end in a space).
    const line = text.replace(/^[ \t]+/, '');
    if (line.trim() === '') return this.badCommand(Pop3Error.badCommand('No command given.'));
    const space = line.search(/[ \t]/);
    const name = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const rest = space < 0 ? '' : line.slice(space + 1);
    const command = COMMANDS.get(name);
    if (command === undefined) return this.badCommand(Pop3Error.badCommand('Unknown command.'));
    const run = command.bind(this.current);
    if (run === null) return this.badCommand(Pop3Error.badCommand('Command not valid in this state.'));
    const args = rest.split(/[ \t]+/).filter((a) => a !== '');
    const problem = arityProblem(command.arity, args);
    if (problem !== undefined) return this.badCommand(Pop3Error.badCommand(problem));
    this.log.debug({ command: name }, 'command');
    try {
      await run(this, { args, rest });
    } catch (err) {
      if (err instanceof Pop3Error) {
        if (err.isBadCommand) return this.badCommand(err);
        this.send(formatErr(err));
        return;
      }
      throw err;
    }
  }

  /** Answers -ERR and counts toward the limit that ends the connection. */
  private badCommand(err: Pop3Error): void {
    this.badCommands++;
    if (this.badCommands >= this.ctx.config.limits.maxBadCommands) {
      this.log.info({ badCommands: this.badCommands }, 'too many bad commands');
      this.close(`${formatErr(err)} Too many errors, closing connection.`);
      return;
    }
    this.send(formatErr(err));
  }

  // ------------------------------------------------------------------ state transitions

  expectPassword(user: string | undefined): void {
    if (this.current.name === 'AUTHORIZATION') this.current = { name: 'AUTHORIZATION', pendingUser: user };
  }

  enterTransaction(tx: Transaction, login: string, tenant: Tenant): void {
    clearTimeout(this.loginTimer);
    this.current = { name: 'TRANSACTION', tx, login, tenant };
  }

  enterUpdate(): UpdateState {
    if (this.current.name !== 'TRANSACTION') throw new Error(`UPDATE entered from ${this.current.name}`);
    const update: UpdateState = { ...this.current, name: 'UPDATE' };
    this.current = update;
    return update;
  }

  // ------------------------------------------------------------------ output

  send(line: string): void {
    if (this.closed) return;
    this.socket.write(line + '\r\n');
  }

  sendMultiline(status: string, lines: readonly string[]): void {
    const body = lines.map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('');
    this.send(`+OK ${status}\r\n${body}.`);
  }

  /** Waits until queued output is at most `limit` octets; output the client takes is activity. */
  private async drain(limit: number): Promise<void> {
    // 'drain' comes only after a write found the buffer at its high-water mark: below that mark
    // (64 KiB on newer Node) a smaller limit would wait for an event that never comes.
    const floor = Math.max(limit, this.socket.writableHighWaterMark);
    while (this.socket.writableLength > floor) {
      if (this.closed) throw new ConnectionClosed();
      this.endBatch();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
      this.armIdle();
    }
    if (this.closed) throw new ConnectionClosed();
  }

  /**
   * Streams a message as a multi-line reply with back-pressure. If the backend fails mid-way
   * the connection is closed without the terminating dot, so the client cannot take a partial
   * message for a whole one. Returns the message octets sent (CRLF, before stuffing).
   */
  async streamMessage(status: string, source: Readable, topLines?: number): Promise<number> {
    const stuffer = new DotStuffer({ replaceNul: this.ctx.config.workarounds.includes('outlook-no-nuls') });
    const top = topLines === undefined ? undefined : new TopFilter(topLines);
    const socket = this.socket;
    // Corked, the status line, the body and the terminator of a small message leave in one writev.
    socket.cork();
    let corked = true;
    const uncork = (): void => {
      if (corked) {
        corked = false;
        socket.uncork();
      }
    };
    try {
      this.writeRaw(Buffer.from(`+OK ${status}\r\n`));
      // A message already in memory skips the stream's async iterator (measurable per message).
      const pieces: Buffer[] = [];
      for await (const chunk of source instanceof InMemoryMessage ? slices(source.bytes) : source) {
        stuffer.push(top === undefined ? (chunk as Buffer) : top.push(chunk as Buffer), pieces);
        for (const piece of pieces) this.writeRaw(piece);
        pieces.length = 0;
        if (socket.writableLength > OUTPUT_HIGH_WATER_MARK) {
          this.endBatch();
          uncork();
          await this.drain(OUTPUT_HIGH_WATER_MARK);
          socket.cork();
          corked = true;
        }
        if (top?.done) break;
      }
      this.writeRaw(stuffer.finish());
    } catch (err) {
      if (err instanceof ConnectionClosed) throw err;
      this.log.warn({ err: (err as Error).message }, 'backend failed while streaming a message; closing without terminator');
      this.destroy();
      throw new ConnectionClosed();
    } finally {
      source.destroy();
      uncork();
    }
    await this.drain(OUTPUT_HIGH_WATER_MARK);
    return stuffer.messageOctets;
  }

  private writeRaw(buf: Buffer): void {
    if (this.closed) throw new ConnectionClosed();
    this.socket.write(buf);
  }

  // ------------------------------------------------------------------ TLS

  /**
   * STLS: everything the client sent after the command is discarded (RFC 2595 / CVE-2011-0411
   * style injection), then the same socket continues under TLS.
   */
  async startTls(): Promise<void> {
    const secureContext = this.ctx.secureContextFor(this.listener);
    if (secureContext === undefined) throw new Pop3Error('TLS is not configured.');
    this.endBatch();
    const plain = this.socket;
    plain.pause();
    this.detach(plain);
    this.reader.clear();
    await new Promise<void>((resolve) => plain.write('+OK Begin TLS negotiation now.\r\n', () => resolve()));
    this.reader.clear();
    // Until the handshake ends, a plain close or error ends the session (no listener of ours is on it).
    plain.once('close', this.onClose);
    const timeoutMs = this.ctx.config.limits.tlsHandshakeTimeoutSeconds * 1000;
    const result = await serverHandshake(plain, secureContext, this.ctx.sniCallback(this.listener), timeoutMs);
    plain.off('close', this.onClose);
    if (!result.ok) {
      this.log.info({ err: result.reason }, 'STLS handshake failed');
      this.markClosed();
      throw new ConnectionClosed();
    }
    const secure = result.socket;
    this.socket = secure;
    this.attach(secure);
    if (this.closed) throw new ConnectionClosed();
    this.tlsActive = true;
    this.log.info({ protocol: secure.getProtocol() }, 'STLS done');
  }

  // ------------------------------------------------------------------ ending

  /** Sends a last line (if any) and closes. Never commits deletions. */
  close(lastLine?: string): void {
    if (this.closed) return;
    if (lastLine !== undefined) this.socket.write(lastLine + '\r\n');
    this.endBatch();
    this.socket.end();
    this.markClosed();
    // A client that never reads would keep the socket half-open: force it after a moment. The
    // timer goes with the socket, so a closed session is not kept in memory for those 2 s.
    const socket = this.socket;
    const force = setTimeout(() => socket.destroy(), 2000).unref();
    socket.once('close', () => clearTimeout(force));
  }

  /** Cuts the connection at once (no more output). */
  destroy(): void {
    this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.loginTimer);
    this.abort.abort();
    this.notify();
    void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    // In UPDATE the QUIT command ends the transaction itself once its commit is done.
    const state = this.current;
    if (state.name === 'TRANSACTION') {
      this.log.info({ user: state.login, outcome: 'disconnected', deletedPending: state.tx.markedCount }, 'session ended without QUIT; nothing deleted');
      await state.tx.end().catch((err: unknown) => this.log.warn({ err }, 'closing the maildrop failed'));
    }
    this.log.info('disconnect');
    this.resolveClosed();
  }

  /** Ends a finished session after QUIT (the transaction is already closed by then). */
  finish(lastLine: string): void {
    this.close(lastLine);
  }
}

/** A message in memory, in MESSAGE_READ_CHUNK pieces: output buffers and drain checks stay small. */
function* slices(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += MESSAGE_READ_CHUNK) yield bytes.subarray(at, at + MESSAGE_READ_CHUNK);
}
