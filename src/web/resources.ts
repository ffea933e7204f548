/**
 * What `identity.web` names on disk, read when the gateway starts or reloads (and by `popgate
 * check`), so a missing certificate or an unreadable key is a start-up error: the users file,
 * the session keys and the TLS files. Loads no HTTP library.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { UsersFile } from '../auth/users-file.js';
import { ConfigError } from '../errors.js';
import { parseKeys } from '../identity/keyring.js';
import { publicUrlOf, type WebConfig } from './config.js';

export interface WebResources {
  readonly users: UsersFile;
  /** Session cookie keys, the first current; a random one per start without `sessionKeyFile`. */
  readonly sessionKeys: readonly Buffer[];
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** HTTPS in the browser's address bar (here, or at a proxy named by publicUrl). */
  readonly secure: boolean;
  readonly warnings: readonly string[];
}

function readFile(path: string, key: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    problems.push(`identity.web.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
}

function othersMayRead(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** @throws ConfigError naming each problem */
export function loadWebResources(web: WebConfig): WebResources {
  const problems: string[] = [];
  const warnings: string[] = [];
  const users = new UsersFile(web.users);
  try {
    users.check();
    const names = new Set(users.names());
    if (names.size === 0) warnings.push(`identity.web.users: ${web.users} has no users (or does not exist): nobody can sign in to the consent pages`);
    const missing = web.admins.filter((a) => !names.has(a));
    if (missing.length > 0) warnings.push(`identity.web.admins: ${missing.join(', ')} not in ${web.users}: they cannot sign in`);
    const warning = users.permissionWarning();
    if (warning !== undefined) warnings.push(warning);
  } catch (err) {
    problems.push(`identity.web.users: ${(err as Error).message}`);
  }
  let sessionKeys: Buffer[] = [randomBytes(32)];
  if (web.sessionKeyFile !== undefined) {
    const text = readFile(web.sessionKeyFile, 'sessionKeyFile', problems);
    if (text !== undefined) {
      try {
        sessionKeys = parseKeys(text.toString('utf8'), `session key file ${web.sessionKeyFile}`);
      } catch (err) {
        problems.push(`identity.web.sessionKeyFile: ${(err as Error).message}`);
      }
      if (othersMayRead(web.sessionKeyFile))
        warnings.push(`identity.web.sessionKeyFile ${web.sessionKeyFile}: others can read it (and forge sessions); chmod 600 it`);
    }
  }
  let tls: WebResources['tls'];
  if (web.tls !== undefined) {
    const cert = readFile(web.tls.cert, 'tls.cert', problems);
    const key = readFile(web.tls.key, 'tls.key', problems);
    if (cert !== undefined && key !== undefined) tls = { cert, key };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { users, sessionKeys, tls, secure: tls !== undefined || publicUrlOf(web).protocol === 'https:', warnings };
}
