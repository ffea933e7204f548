/**
 * The REST reference store (test/helpers/rest-store.ts) in a process of its own, for the bench:
 * its CPU time and memory are its own, as s3rver's are in the S3 workload.
 *
 *   node dist/bench/lib/rest-store-child.js --token-file FILE --mailbox NAME=MAILDIR [--mailbox ...] [--no-sizes] [--no-etags]
 *
 * Starts RestStoreServer on 127.0.0.1:0 with bearer auth (the token is the file's first line),
 * seeds each mailbox NAME with the files in MAILDIR/new (sorted by name, as stored: LF line
 * ends; ids m1, m2, ...), prints `{"port":N,"messages":M}` on one line and serves until SIGTERM
 * or SIGINT. The store records every request and answer (for the tests); the bench child
 * forgets them every second so its memory stays flat.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRestStore } from '../../test/helpers/rest-store.js';

interface ChildArgs {
  readonly tokenFile: string;
  readonly mailboxes: readonly { readonly name: string; readonly maildir: string }[];
  readonly sizes: boolean;
  readonly etags: boolean;
}

function parse(argv: readonly string[]): ChildArgs {
  let tokenFile: string | undefined;
  const mailboxes: { name: string; maildir: string }[] = [];
  let sizes = true;
  let etags = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--token-file') tokenFile = value();
    else if (a === '--mailbox') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--mailbox NAME=MAILDIR, got ${v}`);
      mailboxes.push({ name: v.slice(0, eq), maildir: v.slice(eq + 1) });
    } else if (a === '--no-sizes') sizes = false;
    else if (a === '--no-etags') etags = false;
    else throw new Error(`unknown argument ${a}`);
  }
  if (tokenFile === undefined) throw new Error('--token-file is required');
  return { tokenFile, mailboxes, sizes, etags };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const token = (readFileSync(args.tokenFile, 'utf8').split('\n')[0] ?? '').trim();
  if (token === '') throw new Error(`${args.tokenFile}: no token`);
  const store = await startRestStore({ auth: { kind: 'bearer', token }, sizes: args.sizes, etags: args.etags });
  let messages = 0;
  for (const { name, maildir } of args.mailboxes) {
    const dir = join(maildir, 'new');
    const files = readdirSync(dir).sort();
    store.seed(
      name,
      files.map((f) => readFileSync(join(dir, f))),
    );
    messages += files.length;
  }
  const forget = setInterval(() => {
    store.responses.length = 0;
    store.requests.length = 0;
  }, 1000);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(forget);
    void store.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ port: store.port, messages })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`rest-store-child: ${(err as Error).message}\n`);
  process.exit(1);
});
