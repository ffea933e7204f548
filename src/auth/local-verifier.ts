/**
 * Verifies credentials against a gateway users file. Unknown users cost the same scrypt work
 * as known ones, so timing does not tell a stranger who exists.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Credentials } from './credentials.js';
import { DUMMY_HASH, verifyPassword } from './password-hash.js';
import type { UsersFile } from './users-file.js';
import { processVerifiedCredentials, type VerifiedCredentials } from './verified-credentials.js';

export async function verifyLocal(
  users: UsersFile,
  user: string,
  creds: Credentials,
  verified: VerifiedCredentials = processVerifiedCredentials,
): Promise<boolean> {
  const record = users.get(user);
  switch (creds.kind) {
    case 'password': {
      const stored = record?.password ?? DUMMY_HASH;
      const key = verified.keyOf(user, creds.password, stored);
      if (record !== undefined && (await verified.has(key).catch(() => false))) return true;
      const ok = await verifyPassword(creds.password, stored);
      if (ok && record !== undefined) await verified.remember(key).catch(() => undefined);
      return ok && record !== undefined;
    }
    case 'apop': {
      const secret = record?.secret ?? randomBytes(16).toString('hex');
      const expected = createHash('md5')
        .update(creds.timestamp + secret, 'utf8')
        .digest('hex');
      return equalHex(expected, creds.digest) && record?.secret !== undefined;
    }
    case 'bearer':
      // Tokens are for backends that check them; the users file holds no tokens.
      return false;
    case 'cram-md5': {
      const secret = record?.secret ?? randomBytes(16).toString('hex');
      const expected = createHmac('md5', secret).update(creds.challenge, 'utf8').digest('hex');
      return equalHex(expected, creds.digest) && record?.secret !== undefined;
    }
  }
}

function equalHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Spends what a real password check costs, for logins that fail before any check (unknown tenant). */
export async function spendVerifyCost(creds: Credentials): Promise<void> {
  if (creds.kind === 'password') await verifyPassword(creds.password, DUMMY_HASH);
}
