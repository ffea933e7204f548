/** SASL mechanisms: each turns an exchange into Credentials (verification happens in login). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Credentials } from '../../auth/credentials.js';
import { Pop3Error } from '../../errors.js';
import type { SaslChannel } from './channel.js';

export type Mechanism = (channel: SaslChannel, initial: Buffer | undefined) => Promise<Credentials>;

const malformed = (): Pop3Error => new Pop3Error('Malformed authentication data.', 'AUTH', true);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(buf: Buffer): string {
  try {
    const s = utf8.decode(buf);
    if (/[\0\r\n]/.test(s)) throw malformed();
    return s;
  } catch {
    throw malformed();
  }
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. Acting as another user is not supported. */
const plain: Mechanism = async (channel, initial) => {
  const data = initial ?? (await channel.challenge(''));
  const parts = data.toString('binary').split('\0');
  if (parts.length !== 3) throw malformed();
  const [authz, authc, pass] = parts.map((p) => text(Buffer.from(p, 'binary'))) as [string, string, string];
  if (authc === '' || (authz !== '' && authz !== authc)) throw malformed();
  return { kind: 'password', login: authc, password: pass };
};

/** The LOGIN mechanism (draft-murchison-sasl-login): user name, then password. */
const login: Mechanism = async (channel, initial) => {
  const user = text(initial ?? (await channel.challenge('Username:')));
  const password = text(await channel.challenge('Password:'));
  if (user === '') throw malformed();
  return { kind: 'password', login: user, password };
};

/** RFC 2195: the client answers "user hex(HMAC-MD5(secret, challenge))". */
const cramMd5: Mechanism = async (channel, initial) => {
  if (initial !== undefined) throw malformed();
  const challengeText = `<${randomBytes(8).toString('hex')}.${Date.now()}@${hostname()}>`;
  const answer = text(await channel.challenge(challengeText));
  const m = /^(.+) ([0-9a-fA-F]{32})$/.exec(answer);
  if (m === null) throw malformed();
  return { kind: 'cram-md5', login: m[1] as string, challenge: challengeText, digest: m[2] as string };
};

export const MECHANISMS: ReadonlyMap<string, Mechanism> = new Map([
  ['PLAIN', plain],
  ['LOGIN', login],
  ['CRAM-MD5', cramMd5],
]);
