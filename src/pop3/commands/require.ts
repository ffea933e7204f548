/** Argument-count and state checks shared by the TRANSACTION commands. */
import { Pop3Error } from '../../errors.js';
import type { Connection } from '../connection.js';
import type { Transaction } from '../transaction.js';

export function requireArgs(args: readonly string[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new Pop3Error(args.length < min ? 'Missing argument.' : 'Too many arguments.', undefined, true);
  }
}

export function requireTransaction(conn: Connection, args: readonly string[], maxArgs: number, minArgs = 0): Transaction {
  requireArgs(args, minArgs, maxArgs);
  const tx = conn.transaction;
  if (tx === undefined) throw new Pop3Error('Command not valid in this state.', undefined, true);
  return tx;
}
