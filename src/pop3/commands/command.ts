/**
 * The shape of one POP3 command: the states it runs in, the arguments it takes, and its
 * handler. The dispatcher checks state and arity for every command in one place, so no handler
 * can accept what it does not declare, and hands the handler the state it declared.
 */
import type { Session } from '../session.js';
import type { SessionState, StateName, StateOf } from '../session-state.js';

export interface CommandInput {
  /** Arguments split on runs of blanks (extra spaces tolerated, RFC 1957). */
  readonly args: readonly string[];
  /** Everything after the command name and its separator, unsplit (a password may hold spaces). */
  readonly rest: string;
}

/**
 * `{min, max}`: blank-separated arguments (trailing blanks tolerated). `text`: the rest of the
 * line is one value that may hold blanks (USER, PASS); the handler checks it.
 */
export type Arity = { readonly min: number; readonly max: number } | 'text';

export const NO_ARGS: Arity = { min: 0, max: 0 };
export const ONE_ARG: Arity = { min: 1, max: 1 };
export const OPTIONAL_ARG: Arity = { min: 0, max: 1 };

export interface CommandSpec<N extends StateName> {
  readonly name: string;
  readonly states: readonly N[];
  readonly arity: Arity;
  run(session: Session, state: StateOf<N>, input: CommandInput): Promise<void> | void;
}

/** A command as the dispatcher holds it: its handler accepts any state it was declared for. */
export interface Command {
  readonly name: string;
  readonly states: readonly StateName[];
  readonly arity: Arity;
  /** Null when the session is not in one of the command's states. */
  bind(state: SessionState): ((session: Session, input: CommandInput) => Promise<void> | void) | null;
}

export function defineCommand<N extends StateName>(spec: CommandSpec<N>): Command {
  const inState = (state: SessionState): state is StateOf<N> => (spec.states as readonly StateName[]).includes(state.name);
  return {
    name: spec.name,
    states: spec.states,
    arity: spec.arity,
    bind: (state) => (inState(state) ? (session, input) => spec.run(session, state, input) : null),
  };
}

/** The arity rule, the one place that decides whether a command's arguments are acceptable. */
export function arityProblem(arity: Arity, args: readonly string[]): string | undefined {
  if (arity === 'text') return undefined;
  if (args.length < arity.min) return 'Missing argument.';
  if (args.length > arity.max) return arity.max === 0 ? 'This command takes no arguments.' : 'Too many arguments.';
  return undefined;
}

export const AUTHORIZATION: readonly ['AUTHORIZATION'] = ['AUTHORIZATION'];
export const TRANSACTION: readonly ['TRANSACTION'] = ['TRANSACTION'];
export const AUTHORIZATION_OR_TRANSACTION: readonly ['AUTHORIZATION', 'TRANSACTION'] = ['AUTHORIZATION', 'TRANSACTION'];
