/**
 * Where the grants keys come from: a key file (re-read when a record names a key the keyring
 * lacks, so `popgate keys rotate` run beside a live gateway does not strand it) or an
 * environment variable (read once).
 */
import { readFileSync, statSync } from 'node:fs';
import type { GrantsConfig } from './config.js';
import { Keyring, parseKeys } from './keyring.js';

export class KeySource {
  private ring: Keyring | undefined;

  constructor(private readonly cfg: Pick<GrantsConfig, 'keyFile' | 'keyEnv'>) {}

  /** The keyring; throws with a message naming the file or variable when it cannot be read. */
  keyring(): Keyring {
    this.ring ??= this.load();
    return this.ring;
  }

  /** The keyring again from its source, when `kid` is not in the one loaded (keys changed on disk). */
  keyringWith(kid: string): Keyring {
    const ring = this.keyring();
    if (ring.has(kid) || this.cfg.keyFile === undefined) return ring;
    this.ring = this.load();
    return this.ring;
  }

  /** A warning when others than the owner may read the key file. */
  permissionWarning(): string | undefined {
    if (this.cfg.keyFile === undefined) return undefined;
    try {
      const mode = statSync(this.cfg.keyFile).mode & 0o777;
      if ((mode & 0o077) === 0) return undefined;
      return `grants key file ${this.cfg.keyFile} has mode 0${mode.toString(8)}: others can read the key that protects every refresh token; chmod 600 it`;
    } catch {
      return undefined;
    }
  }

  private load(): Keyring {
    if (this.cfg.keyFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(this.cfg.keyFile, 'utf8');
      } catch (err) {
        throw new Error(`cannot read the key file ${this.cfg.keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
      }
      return new Keyring(parseKeys(text, `key file ${this.cfg.keyFile}`));
    }
    const name = this.cfg.keyEnv as string;
    const value = process.env[name];
    if (value === undefined || value === '') throw new Error(`the environment variable ${name} (keyEnv) is not set`);
    return new Keyring(parseKeys(value, `the environment variable ${name}`));
  }
}
