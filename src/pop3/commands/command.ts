/** The shape of one POP3 command handler. */
import type { Connection, State } from '../connection.js';

export interface CommandInput {
  /** Arguments split on runs of blanks (extra spaces tolerated, RFC 1957). */
  readonly args: readonly string[];
  /** Everything after the command name and its separator, unsplit (a password may hold spaces). */
  readonly rest: string;
}

export interface Command {
  readonly name: string;
  readonly states: readonly State[];
  run(conn: Connection, input: CommandInput): Promise<void> | void;
}

export const AUTH_ONLY: readonly State[] = ['AUTHORIZATION'];
export const TRANSACTION_ONLY: readonly State[] = ['TRANSACTION'];
export const ANY_STATE: readonly State[] = ['AUTHORIZATION', 'TRANSACTION'];
