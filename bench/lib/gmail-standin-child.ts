/**
 * The Gmail API stand-in (test/helpers/gmail-standin.ts) in a process of its own, for the bench:
 * its CPU time and memory are its own, as the REST store's are.
 *
 *   node dist/bench/lib/gmail-standin-child.js --key-file FILE --mailbox USER=MAILDIR [--mailbox ...]
 *
 * Starts the stand-in on 127.0.0.1:0, writes its service account's JSON key to FILE (mode 0600),
 * lets the service account act as each USER (domain-wide delegation) and adds the files in
 * MAILDIR/new to USER's INBOX (sorted by name, as stored: LF line ends; oldest first), prints
 * `{"baseUrl":…,"tokenUrl":…,"keyFile":…,"messages":M}` on one line and serves until SIGTERM or
 * SIGINT. The stand-in keeps no per-request records, so its memory stays flat.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGmailStandin } from '../../test/helpers/gmail-standin.js';

interface ChildArgs {
  readonly keyFile: string;
  readonly mailboxes: readonly { readonly user: string; readonly maildir: string }[];
}

function parse(argv: readonly string[]): ChildArgs {
  let keyFile: string | undefined;
  const mailboxes: { user: string; maildir: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--key-file') keyFile = value();
    else if (a === '--mailbox') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--mailbox USER=MAILDIR, got ${v}`);
      mailboxes.push({ user: v.slice(0, eq), maildir: v.slice(eq + 1) });
    } else throw new Error(`unknown argument ${a}`);
  }
  if (keyFile === undefined) throw new Error('--key-file is required');
  return { keyFile, mailboxes };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const standin = await startGmailStandin();
  writeFileSync(args.keyFile, JSON.stringify(standin.serviceAccountKey), { mode: 0o600 });
  let messages = 0;
  for (const { user, maildir } of args.mailboxes) {
    standin.domainUsers.add(user);
    const dir = join(maildir, 'new');
    for (const f of readdirSync(dir).sort()) {
      standin.add(user, readFileSync(join(dir, f)));
      messages++;
    }
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void standin.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ baseUrl: standin.baseUrl, tokenUrl: standin.tokenUrl, keyFile: args.keyFile, messages })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gmail-standin-child: ${(err as Error).message}\n`);
  process.exit(1);
});
