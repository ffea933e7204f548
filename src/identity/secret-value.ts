/** A secret named by the config (a file, or an environment variable), read when the gateway starts. */
import { readFileSync } from 'node:fs';

/** The secret, or a problem worded for a config error (`key: problem`). */
export function readSecretValue(
  source: { readonly file?: string | undefined; readonly env?: string | undefined },
  keys: { file: string; env: string },
): string | { problem: string } {
  if (source.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      return { problem: `${keys.file}: cannot read ${source.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
    // Editors and `echo` add a line end; it is never part of a secret.
    const secret = text.replace(/\r?\n$/, '');
    return secret === '' ? { problem: `${keys.file}: ${source.file} is empty` } : secret;
  }
  const name = source.env ?? '';
  const value = process.env[name];
  return value === undefined || value === '' ? { problem: `${keys.env}: the environment variable ${name} is not set` } : value;
}
