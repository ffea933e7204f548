/**
 * Gateway-managed accounts in a YAML file:
 *   users:
 *     alice:
 *       password: $scrypt$ln=14,r=8,p=1$...   (never the plaintext)
 *       secret: "..."                          (optional; only for APOP and CRAM-MD5)
 *       backend: {user: ..., password: ...}    (optional; for `auth: mapped` tenants)
 * Re-read when its modification time changes, so `popgate user ...` needs no restart.
 * Written atomically (an exclusively created temporary file, then rename) with mode 0600.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { loggableName } from '../../adapters/shared/log-text.js';
import { writeFileAtomically } from './atomic-write.js';
import { permissionBits } from './file-mode.js';
import { isPasswordHash } from './password-hash.js';

const userSchema = z.strictObject({
  password: z.string().refine(isPasswordHash, 'must be a $scrypt$ hash (use `popgate user passwd`)'),
  secret: z.string().min(1).optional(),
  /** Credentials for the backend, for tenants with `auth: mapped` (kept reversibly: see README). */
  backend: z.strictObject({ user: z.string().min(1), password: z.string() }).optional(),
});
const fileSchema = z.strictObject({ users: z.record(z.string().min(1), userSchema).default({}) });

export type UserRecord = z.infer<typeof userSchema>;

/** User names that are safe everywhere: in paths, logs and the users file. */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+=-]{0,127}$/;
const USER_NAME_HELP = 'letters, digits and . _ @ + = -, at most 128, starting with a letter, digit or _';

export type UserNameRule = (name: string) => boolean;

/**
 * The names a tenant's users file may hold: those `popgate user add` accepts, and, where the
 * tenant's `userName` template puts a `/` in backend names (`{domain}/{local}`), `/` between
 * such names.
 */
export function userNameRuleFor(userNameSetting: string): UserNameRule {
  if (!userNameSetting.includes('/')) return (name) => USER_NAME.test(name);
  return (name) => name.split('/').every((segment) => USER_NAME.test(segment));
}

export class UsersFile {
  private users = new Map<string, UserRecord>();
  private loadedMtimeMs = -1;

  /** `validName`: the tenant's rule, applied at every load; without one (the CLI) any name loads. */
  constructor(
    readonly path: string,
    private readonly validName?: UserNameRule,
  ) {}

  /** The record, re-reading the file if it changed. Throws if the file is unreadable or invalid. */
  get(user: string): UserRecord | undefined {
    this.refresh();
    return this.users.get(user);
  }

  /** Any user with a shared secret (so APOP/CRAM-MD5 can succeed at all). */
  hasSecrets(): boolean {
    this.refresh();
    for (const u of this.users.values()) if (u.secret !== undefined) return true;
    return false;
  }

  names(): string[] {
    this.refresh();
    return [...this.users.keys()].sort();
  }

  /**
   * Validates the file now; throws with a message naming the problem. A file others can write
   * is refused: anyone on the machine could add an account or change a password.
   */
  check(): void {
    const mode = permissionBits(this.path);
    if (mode !== undefined && (mode & 0o002) !== 0) {
      throw new Error(`users file ${this.path} is writable by others (mode ${octal(mode)}): anyone could add an account; chmod o-w,g-w it`);
    }
    this.loadedMtimeMs = -1;
    this.refresh();
  }

  /**
   * A warning when others than the owner may read the file or the group may change it: it holds
   * hashes, and may hold shared secrets and backend passwords in reversible form.
   */
  permissionWarning(): string | undefined {
    const mode = permissionBits(this.path);
    if (mode === undefined || (mode & 0o064) === 0) return undefined;
    const who = (mode & 0o020) !== 0 ? 'its group can write it' : (mode & 0o004) !== 0 ? 'anyone can read it' : 'its group can read it';
    return `users file ${this.path} has mode ${octal(mode)}: ${who} (shared secrets and backend passwords in it are reversible); chmod 600 it`;
  }

  private refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.users = new Map();
        this.loadedMtimeMs = 0;
        return;
      }
      throw err;
    }
    if (mtimeMs === this.loadedMtimeMs) return;
    this.users = readUsers(this.path, this.validName);
    this.loadedMtimeMs = mtimeMs;
  }

  /** Applies a change to the file on disk (used by the CLI). */
  update(change: (users: Map<string, UserRecord>) => void): void {
    this.loadedMtimeMs = -1;
    this.refresh();
    const next = new Map(this.users);
    change(next);
    const out = { users: Object.fromEntries([...next.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) };
    writeFileAtomically(this.path, '# popgate users file: manage with `popgate user add|passwd|remove`\n' + stringify(out));
    this.loadedMtimeMs = -1;
  }
}

function readUsers(path: string, validName: UserNameRule | undefined): Map<string, UserRecord> {
  const data: unknown = parse(readFileSync(path, 'utf8')) ?? {};
  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first?.path.map(String).join('.') ?? '';
    throw new Error(`users file ${path}: ${where}: ${first?.message ?? 'invalid'}`);
  }
  const bad = validName === undefined ? undefined : Object.keys(result.data.users).find((name) => !validName(name));
  if (bad !== undefined) {
    throw new Error(`users file ${path}: users.${loggableName(bad)}: not a valid user name (${USER_NAME_HELP}); fix or remove the entry`);
  }
  return new Map(Object.entries(result.data.users));
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
