/**
 * What a command, the login and the SASL exchange may do with a connection: read its facts,
 * reply, stream a message, and move the session between states through named transitions.
 * They never touch the socket, the timers or the state fields themselves.
 */
import type { Readable } from 'node:stream';
import type { ListenerConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../tenants.js';
import type { ServerContext } from './server-context.js';
import type { SessionState, UpdateState } from './session-state.js';
import type { Transaction } from './transaction.js';

export interface Session {
  readonly id: string;
  readonly ctx: ServerContext;
  readonly listener: ListenerConfig;
  /** The client's address: the socket's peer, or what a trusted proxy's PROXY header said. */
  readonly remoteAddress: string;
  readonly remotePort: number | undefined;
  readonly log: Logger;
  /** Aborted when the connection ends. */
  readonly signal: AbortSignal;
  readonly isTls: boolean;
  readonly isClosed: boolean;
  /** The TLS SNI name the client asked for, if any. */
  readonly serverName: string | undefined;
  /** The greeting's APOP timestamp, when APOP can succeed on this connection. */
  readonly apopTimestamp: string | undefined;
  readonly state: SessionState;

  /** Writes one reply line (CRLF added). */
  send(line: string): void;
  /** Writes a multi-line reply: status line, dot-stuffed lines, terminator. */
  sendMultiline(status: string, lines: readonly string[]): void;
  /** Streams a message with back-pressure; returns the message octets sent (CRLF, unstuffed). */
  streamMessage(status: string, source: Readable, topLines?: number): Promise<number>;
  /**
   * The client's next SASL line without its line end, or null once the connection is closed
   * (a line over the 64 KiB limit closes it).
   */
  readSaslLine(): Promise<Buffer | null>;
  /** STLS: the same connection goes on under TLS. */
  startTls(): Promise<void>;

  /** USER remembers the name for PASS; PASS and any other command forget it. */
  expectPassword(user: string | undefined): void;
  enterTransaction(tx: Transaction, login: string, tenant: Tenant): void;
  /** QUIT in TRANSACTION: no command runs any more, deletions are being applied. */
  enterUpdate(): UpdateState;
  /** Sends the last line and closes (nothing is deleted here). */
  finish(lastLine: string): void;
}
