/** SASL mechanisms: each turns an exchange into Credentials (verification happens in login). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Credentials } from '../../auth/credentials.js';
import { Pop3Error } from '../../errors.js';
import type { SaslChannel } from './channel.js';

export type Mechanism = (channel: SaslChannel, initial: Buffer | undefined) => Promise<Credentials>;

const malformed = (): Pop3Error => Pop3Error.badCommand('Malformed authentication data.', 'AUTH');
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

/** `key=value` pairs separated by ^A, ending in ^A^A (XOAUTH2 and the OAUTHBEARER body). */
function kvPairs(body: string): Map<string, string> | undefined {
  if (!body.endsWith('\x01\x01')) return undefined;
  const pairs = new Map<string, string>();
  for (const part of body.slice(0, -2).split('\x01')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    pairs.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return pairs;
}

function bearerToken(auth: string | undefined): string {
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(auth ?? '');
  if (m === null) throw malformed();
  return m[1] as string;
}

/** Google's XOAUTH2: `user=<login>^Aauth=Bearer <token>^A^A`. */
const xoauth2: Mechanism = async (channel, initial) => {
  const pairs = kvPairs(text(initial ?? (await channel.challenge(''))));
  const user = pairs?.get('user');
  if (pairs === undefined || user === undefined || user === '') throw malformed();
  return { kind: 'bearer', login: user, token: bearerToken(pairs.get('auth')) };
};

/** RFC 7628 OAUTHBEARER: GS2 header `n,a=<login>,` then ^A-separated pairs with `auth=Bearer <token>`. */
const oauthBearer: Mechanism = async (channel, initial) => {
  const data = text(initial ?? (await channel.challenge('')));
  // eslint-disable-next-line no-control-regex -- RFC 7628 separates the GS2 header with ^A
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,\x01(.*)$/s.exec(data);
  if (m === null) throw malformed();
  const authzid = (m[2] ?? '').slice(2).replaceAll('=2C', ',').replaceAll('=3D', '=');
  const pairs = kvPairs(m[3] as string);
  if (pairs === undefined || authzid === '') throw malformed();
  return { kind: 'bearer', login: authzid, token: bearerToken(pairs.get('auth')) };
};

export const MECHANISMS: ReadonlyMap<string, Mechanism> = new Map([
  ['PLAIN', plain],
  ['LOGIN', login],
  ['CRAM-MD5', cramMd5],
  ['XOAUTH2', xoauth2],
  ['OAUTHBEARER', oauthBearer],
]);
