/** scrypt password hashes in a PHC-like string: `$scrypt$ln=14,r=8,p=1$<salt b64>$<hash b64>`. */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { loginHashGate } from './hash-gate.js';

const KEY_LENGTH = 32;
const DEFAULT_PARAMS = { ln: 14, r: 8, p: 1 } as const;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function options(ln: number, r: number, p: number): ScryptOptions {
  return { N: 2 ** ln, r, p, maxmem: 256 * 1024 * 1024 };
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { ln, r, p } = DEFAULT_PARAMS;
  const key = await scryptAsync(password, salt, options(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(value: string): boolean {
  return FORMAT.test(value);
}

/** Checks a login's password; the work waits for (or is refused by) the login hash gate. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = FORMAT.exec(encoded);
  if (m === null) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5] as string, 'base64');
  if (ln < 1 || ln > 20 || expected.length !== KEY_LENGTH) return false;
  const salt = Buffer.from(m[4] as string, 'base64');
  const key = await loginHashGate.run(() => scryptAsync(password, salt, options(ln, r, p)));
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: verifying against it costs what a real user costs. */
export const DUMMY_HASH = '$scrypt$ln=14,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(KEY_LENGTH, 1).toString('base64');
