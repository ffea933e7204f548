/**
 * `popgate demo`: the embedded default with no config. Creates (once) a Maildir with sample
 * messages and a demo account under a data folder, and serves it on loopback.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { hashPassword } from './auth/password-hash.js';
import { UsersFile } from './auth/users-file.js';
import { configSchema, type Config } from './config/schema.js';

export const DEMO_USER = 'demo';
export const DEMO_PASSWORD = 'demo';

export interface DemoOptions {
  readonly dataDir: string;
  readonly port: number;
}

/** Writes a message the way an MDA does: tmp/ first, then a rename into new/. */
export function deliver(maildir: string, content: string | Buffer, unique: string, time = Math.floor(Date.now() / 1000)): string {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let crlf = body.length;
  for (let i = 0; i < body.length; i++) if (body[i] === 0x0a && (i === 0 || body[i - 1] !== 0x0d)) crlf++;
  const name = `${time}.${unique}.${hostname().replace(/[/:,]/g, '_')},S=${body.length},W=${crlf}`;
  writeFileSync(join(maildir, 'new', name), body, { mode: 0o600 });
  return name;
}

function sampleMessages(): string[] {
  const date = new Date().toUTCString();
  const msg = (n: number, subject: string, body: string): string =>
    `From: popgate demo <demo@popgate.invalid>\nTo: demo@popgate.invalid\nSubject: ${subject}\nDate: ${date}\nMessage-ID: <demo-${n}@popgate.invalid>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${body}`;
  return [
    msg(1, 'Welcome to popgate', 'This mailbox is a local Maildir served over POP3.\nFetch it with curl, fetchmail, mpop or Python poplib.\n'),
    msg(
      2,
      'Lines that start with a dot',
      'The next line starts with a dot and is dot-stuffed on the wire:\n.hidden\n..two dots\n.\nThe line above is a lone dot.\n',
    ),
    msg(3, 'Grüße: 8-bit text', 'Unicode survives byte for byte: naïve café, 日本語, emoji 📬.\n'),
    msg(4, 'No final newline', 'This message does not end with a line break; the server adds one before the terminator.'),
    msg(5, 'Stored with CRLF', 'This one was stored with CRLF line ends.\n').replaceAll('\n', '\r\n'),
  ];
}

/** Creates the demo data folder on first use; returns the paths it uses. */
export async function prepareDemo(dataDir: string): Promise<{ maildirRoot: string; usersFile: string }> {
  const root = resolve(dataDir);
  const maildirRoot = join(root, 'mail');
  const usersFile = join(root, 'users.yaml');
  const maildir = join(maildirRoot, DEMO_USER);
  if (!existsSync(usersFile)) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true, mode: 0o700 });
    const start = Math.floor(Date.now() / 1000) - 3600;
    sampleMessages().forEach((m, i) => deliver(maildir, m, `M${i + 1}P${process.pid}`, start + i));
    const password = await hashPassword(DEMO_PASSWORD);
    new UsersFile(usersFile).update((users) => users.set(DEMO_USER, { password }));
  }
  return { maildirRoot, usersFile };
}

export function demoConfig(opts: DemoOptions, paths: { maildirRoot: string; usersFile: string }): Config {
  return configSchema.parse({
    listeners: [{ host: '127.0.0.1', port: opts.port, tls: 'none' }],
    tenants: { demo: { adapter: 'maildir', path: join(paths.maildirRoot, '{user}'), users: paths.usersFile } },
    defaultTenant: 'demo',
    allowPlaintextAuth: 'tls-only',
    allowPlaintextAuthOnLoopback: true,
  });
}

export function demoInstructions(port: number, maildir: string): string {
  const u = `${DEMO_USER}:${DEMO_PASSWORD}`;
  return [
    `popgate demo: serving the Maildir ${maildir} on 127.0.0.1:${port} (user ${DEMO_USER}, password ${DEMO_PASSWORD})`,
    '',
    '  list messages:     curl -s pop3://127.0.0.1:' + port + '/ -u ' + u,
    '  fetch message 1:   curl -s pop3://127.0.0.1:' + port + '/1 -u ' + u,
    '  unique ids:        curl -s pop3://127.0.0.1:' + port + '/ -u ' + u + ' -X UIDL',
    "  Python poplib:     python3 -c \"import poplib; p = poplib.POP3('127.0.0.1', " +
      port +
      "); p.user('" +
      DEMO_USER +
      "'); p.pass_('" +
      DEMO_PASSWORD +
      "'); print(p.stat()); print(b'\\n'.join(p.retr(1)[1]).decode()); p.quit()\"",
    '',
    'Messages are never deleted unless a client sends DELE and then QUIT. Stop with Ctrl-C.',
  ].join('\n');
}
