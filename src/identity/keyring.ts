/**
 * The keys that encrypt refresh tokens at rest, and the sealing itself: AES-256-GCM with a
 * random 96-bit IV per seal and the record's owner as additional data (a sealed token copied
 * into another account's record does not open). Each sealed value names the id of its key, so
 * several keys can be in use while `popgate keys rotate` moves records to the current one.
 *
 * Key text: one base64 key of 32 octets per entry (lines in a file, or whitespace-separated in a
 * variable), `#` comments and blank lines ignored; the first entry is the current key. A key's
 * id is derived from it (a hash prefix that reveals nothing of the key), so nobody has to name
 * keys and a key cannot be filed under a wrong id.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const KEY_OCTETS = 32;
const IV_OCTETS = 12;
const TAG_OCTETS = 16;

/** A refresh token as stored: every part base64; `kid` names the key that sealed it. */
export interface Sealed {
  readonly kid: string;
  readonly iv: string;
  readonly data: string;
  readonly tag: string;
}

/** A sealed value whose key is not in the keyring, or that does not open with it. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('popgate grants key\0').update(key).digest('hex').slice(0, 16);
}

/** The keys in `text`, first the current one; throws with a message naming the problem. */
export function parseKeys(text: string, where: string): Buffer[] {
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .flatMap((line) => line.split(/\s+/))
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error(`${where} holds no key (generate one with \`popgate keys generate\`)`);
  return entries.map((entry, i) => {
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(entry)
      ? Buffer.from(entry, entry.includes('-') || entry.includes('_') ? 'base64url' : 'base64')
      : Buffer.alloc(0);
    if (key.length !== KEY_OCTETS)
      throw new Error(`${where}: key ${i + 1} is not ${KEY_OCTETS} octets of base64 (generate one with \`popgate keys generate\`)`);
    return key;
  });
}

/** A new random key, as a line of a key file. */
export function generateKeyText(): string {
  return randomBytes(KEY_OCTETS).toString('base64');
}

export class Keyring {
  private readonly byId: Map<string, Buffer>;
  /** The id new seals use. */
  readonly currentId: string;

  constructor(keys: readonly Buffer[]) {
    const first = keys[0];
    if (first === undefined) throw new Error('a keyring needs at least one key');
    this.byId = new Map(keys.map((k) => [keyIdOf(k), k]));
    this.currentId = keyIdOf(first);
  }

  has(kid: string): boolean {
    return this.byId.has(kid);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  seal(plain: string, owner: string): Sealed {
    const key = this.byId.get(this.currentId) as Buffer;
    const iv = randomBytes(IV_OCTETS);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_OCTETS });
    cipher.setAAD(additionalData(this.currentId, owner));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { kid: this.currentId, iv: iv.toString('base64'), data: data.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  /** @throws UnsealError when the key is unknown or the value was changed or belongs to another owner */
  unseal(sealed: Sealed, owner: string): string {
    const key = this.byId.get(sealed.kid);
    if (key === undefined) throw new UnsealError(`sealed with key ${sealed.kid}, which is not in the keyring (keys: ${this.ids.join(', ')})`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'), { authTagLength: TAG_OCTETS });
      decipher.setAAD(additionalData(sealed.kid, owner));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new UnsealError(`the sealed value does not open with key ${sealed.kid} (changed, or copied from another record)`, { cause: err });
    }
  }
}

function additionalData(kid: string, owner: string): Buffer {
  return Buffer.from(`popgate-grant v1\0${kid}\0${owner}`, 'utf8');
}
