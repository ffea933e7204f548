/** The command table: name -> handler with the states it is valid in. */
import { apop } from './apop.js';
import { auth } from './auth.js';
import { capa } from './capa.js';
import type { Command } from './command.js';
import { dele } from './dele.js';
import { last } from './last.js';
import { list } from './list.js';
import { noop } from './noop.js';
import { pass } from './pass.js';
import { quit } from './quit.js';
import { retr } from './retr.js';
import { rset } from './rset.js';
import { stat } from './stat.js';
import { stls } from './stls.js';
import { top } from './top.js';
import { uidl } from './uidl.js';
import { user } from './user.js';

export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [user, pass, apop, auth, stls, capa, stat, list, retr, dele, noop, rset, quit, top, uidl, last].map((c) => [c.name, c]),
);
