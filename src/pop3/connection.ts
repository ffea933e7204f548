/**
 * One POP3 connection: read a line, dispatch it, write the reply, in order. Pipelined commands
 * wait in the line reader; the socket is paused while too much input is queued.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { InMemoryMessage } from '../../adapters/contract.js';
import type { ListenerConfig } from '../config/schema.js';
import { Pop3Error } from '../errors.js';
import { MAX_AUTH_LINE, MAX_COMMAND_LINE, MAX_PENDING_INPUT, MESSAGE_READ_CHUNK, OUTPUT_HIGH_WATER_MARK } from '../limits.js';
import type { Logger } from '../logger.js';
import { COMMANDS } from './commands/index.js';
import { DotStuffer } from './dot-stuffer.js';
import { LineReader, type ReadResult } from './line-reader.js';
import { formatErr } from './replies.js';
import type { ServerContext } from './server-context.js';
import type { Tenant } from '../tenants.js';
import type { Transaction } from './transaction.js';
import { TopFilter } from '../../adapters/shared/top-filter.js';

export type State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

/** Thrown inside a command when the socket is gone; ends the session without a reply. */
export class ConnectionClosed extends Error {
  override readonly name = 'ConnectionClosed';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class Connection {
  readonly id = randomBytes(6).toString('hex');
  readonly remoteAddress: string;
  readonly log: Logger;
  state: State = 'AUTHORIZATION';
  /** Set by USER, consumed by PASS. */
  pendingUser: string | undefined;
  /** The greeting's APOP timestamp, when APOP can succeed on this connection. */
  readonly apopTimestamp: string | undefined;
  transaction: Transaction | undefined;
  /** Login name once authenticated (for logs). */
  user: string | undefined;
  /** The tenant the session logged in to (its capability values apply from then on). */
  tenant: Tenant | undefined;
  private socket: Socket;
  private tlsActive: boolean;
  private readonly reader = new LineReader();
  private wake: (() => void) | undefined;
  private closed = false;
  private badCommands = 0;
  /** The socket is corked while pipelined commands are answered (see run()). */
  private batchCorked = false;
  private readonly abort = new AbortController();
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    socket: Socket,
    readonly ctx: ServerContext,
    readonly listener: ListenerConfig,
  ) {
    this.socket = socket;
    this.tlsActive = socket instanceof TLSSocket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.log = ctx.logger.child({ session: this.id, peer: this.remoteAddress });
    this.apopTimestamp = ctx.apopAvailable() ? `<${process.pid}.${randomBytes(8).toString('hex')}.${Date.now()}@${hostname()}>` : undefined;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get isTls(): boolean {
    return this.tlsActive;
  }

  /** The TLS SNI name the client asked for, if any (implicit TLS or STLS). */
  get serverName(): string | undefined {
    const socket = this.socket;
    if (!(socket instanceof TLSSocket)) return undefined;
    const name = (socket as TLSSocket & { servername?: string | false | null }).servername;
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
    this.log.info({ tls: this.tlsActive, listener: `${this.listener.host}:${this.listener.port}` }, 'connect');
    const stamp = this.apopTimestamp === undefined ? '' : ` ${this.apopTimestamp}`;
    this.send(`+OK popgate ready.${stamp}`);
    void this.run();
  }

  // ------------------------------------------------------------------ input

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setTimeout(this.ctx.config.limits.idleTimeoutSeconds * 1000);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: Socket): void {
    socket.setTimeout(0);
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    if (this.wake === undefined && this.reader.pending > MAX_PENDING_INPUT) this.socket.pause();
    this.notify();
  };

  private readonly onTimeout = (): void => {
    this.log.info('idle timeout');
    this.close('-ERR Disconnected for inactivity.');
  };

  private readonly onError = (err: Error): void => {
    this.log.debug({ err: err.message }, 'socket error');
  };

  private readonly onClose = (): void => {
    this.markClosed();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next input line, or null once the connection is closed. */
  async readLine(limit: number): Promise<ReadResult | null> {
    for (;;) {
      const result = this.reader.next(limit);
      if (result !== null) return result;
      if (this.closed) return null;
      if (this.socket.isPaused()) this.socket.resume();
      // Whatever waits for the client (a SASL answer) must first let it see our replies.
      this.endBatch();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private readonly endBatchLater = (): void => this.endBatch();

  private endBatch(): void {
    if (!this.batchCorked) return;
    this.batchCorked = false;
    this.socket.uncork();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        // Before login an AUTH line may carry a long initial response (OAuth tokens): read up to
        // the SASL limit and hold every other command to 255 octets in dispatch.
        const input = await this.readLine(this.state === 'AUTHORIZATION' ? MAX_AUTH_LINE : MAX_COMMAND_LINE);
        if (input === null) break;
        // Pipelined commands: the replies made in one turn of the event loop leave together
        // (fewer, larger writes). The batch ends when the client's queue is empty, or at the
        // next turn: a command waiting for its backend must not hold finished replies back.
        if (!this.batchCorked && this.reader.hasLine && !this.closed) {
          this.socket.cork();
          this.batchCorked = true;
          setImmediate(this.endBatchLater);
        }
        await this.dispatch(input);
        if (!this.reader.hasLine) this.endBatch();
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) {
        this.log.error({ err }, 'session failed');
        this.close('-ERR [SYS/TEMP] Internal error.');
      }
    }
  }

  private async dispatch(input: ReadResult): Promise<void> {
    if (input.kind === 'too-long') return this.badCommand(new Pop3Error('Line too long.'));
    const raw = input.line;
    if (raw.includes(0)) return this.badCommand(new Pop3Error('NUL octets are not allowed in commands.'));
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return this.badCommand(new Pop3Error('Invalid characters in command (not UTF-8).'));
    }
    // Leading blanks are dropped; trailing ones stay in `rest` (RFC 1939 lets a password end in a space).
    const line = text.replace(/^[ \t]+/, '');
    if (line.trim() === '') return this.badCommand(new Pop3Error('No command given.'));
    const space = line.search(/[ \t]/);
    const name = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (raw.length + 2 > MAX_COMMAND_LINE && name !== 'AUTH') return this.badCommand(new Pop3Error('Line too long.'));
    const command = COMMANDS.get(name);
    if (command === undefined) return this.badCommand(new Pop3Error('Unknown command.'));
    if (!command.states.includes(this.state)) return this.badCommand(new Pop3Error('Command not valid in this state.'));
    const args = rest.split(/[ \t]+/).filter((a) => a !== '');
    this.log.debug({ command: name }, 'command');
    try {
      await command.run(this, { args, rest });
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

  enterTransaction(tx: Transaction, login: string, tenant: Tenant): void {
    this.transaction = tx;
    this.user = login;
    this.tenant = tenant;
    this.state = 'TRANSACTION';
    this.pendingUser = undefined;
  }

  // ------------------------------------------------------------------ output

  /** Writes one reply line (CRLF added). */
  send(line: string): void {
    if (this.closed) return;
    this.socket.write(line + '\r\n');
  }

  /** Writes a multi-line reply: status line, dot-stuffed lines, terminator. */
  sendMultiline(status: string, lines: readonly string[]): void {
    const body = lines.map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('');
    this.send(`+OK ${status}\r\n${body}.`);
  }

  /** Waits until queued output drains below the high-water mark. */
  private async drain(): Promise<void> {
    while (this.socket.writableLength > OUTPUT_HIGH_WATER_MARK) {
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
          await this.drain();
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
    await this.drain();
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
    const secure = new TLSSocket(plain, { isServer: true, secureContext, SNICallback: this.ctx.sniCallback(this.listener) });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve) => {
      const ok = (): void => {
        secure.off('error', fail);
        resolve();
      };
      const fail = (err: Error): void => {
        secure.off('secure', ok);
        this.log.info({ err: err.message }, 'STLS handshake failed');
        this.markClosed();
        resolve();
      };
      secure.once('secure', ok);
      secure.once('error', fail);
    });
    if (this.closed) throw new ConnectionClosed();
    this.tlsActive = true;
    this.log.info({ protocol: secure.getProtocol() }, 'STLS done');
  }

  // ------------------------------------------------------------------ ending

  /** Sends a last line (if any) and closes. Never commits deletions. */
  close(lastLine?: string): void {
    if (this.closed) return;
    if (lastLine !== undefined) this.socket.write(lastLine + '\r\n');
    this.socket.end();
    this.markClosed();
    // A client that never reads would keep the socket half-open: force it after a moment.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Cuts the connection at once (no more output). */
  destroy(): void {
    this.socket.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.notify();
    void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    const tx = this.transaction;
    this.transaction = undefined;
    if (tx !== undefined) {
      this.log.info({ user: this.user, outcome: 'disconnected', deletedPending: tx.markedCount }, 'session ended without QUIT; nothing deleted');
      await tx.end().catch((err: unknown) => this.log.warn({ err }, 'closing the maildrop failed'));
    }
    this.log.info('disconnect');
    this.resolveClosed();
  }

  /** Ends a finished session after QUIT (the transaction is already closed by then). */
  finish(lastLine: string): void {
    this.transaction = undefined;
    this.close(lastLine);
  }
}

/** A message in memory, in MESSAGE_READ_CHUNK pieces: output buffers and drain checks stay small. */
function* slices(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += MESSAGE_READ_CHUNK) yield bytes.subarray(at, at + MESSAGE_READ_CHUNK);
}
