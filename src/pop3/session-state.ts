/**
 * The RFC 1939 session states as a union: TRANSACTION and UPDATE carry the open maildrop, so
 * a command that needs one can only be declared for a state that has it.
 */
import type { Tenant } from '../tenants.js';
import type { Transaction } from './transaction.js';

export interface AuthorizationState {
  readonly name: 'AUTHORIZATION';
  /** Set by USER, consumed by PASS. */
  readonly pendingUser: string | undefined;
}

interface LoggedIn {
  readonly tx: Transaction;
  /** The login name as the client gave it (for logs). */
  readonly login: string;
  /** The tenant the session logged in to (its capability values apply from then on). */
  readonly tenant: Tenant;
}

export interface TransactionState extends LoggedIn {
  readonly name: 'TRANSACTION';
}

/** After QUIT in TRANSACTION: deletions are being applied. */
export interface UpdateState extends LoggedIn {
  readonly name: 'UPDATE';
}

export type SessionState = AuthorizationState | TransactionState | UpdateState;
export type StateName = SessionState['name'];
export type StateOf<N extends StateName> = Extract<SessionState, { readonly name: N }>;
