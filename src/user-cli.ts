/** `popgate user add|passwd|remove|list`: manages a users file (scrypt hashes, optional shared secret). */
import { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { hashPassword } from './auth/password-hash.js';
import { USER_NAME, UsersFile, type UserRecord } from './auth/users-file.js';

type Runner = (action: () => Promise<void>) => Promise<void>;

interface UserOpts {
  file: string;
  sharedSecret?: boolean;
  backendUser?: string;
}

/**
 * Reads secrets: from a terminal without echo (asked twice), else one line each from stdin
 * (password first, then the shared secret), so scripts can pipe them in.
 */
async function readSecrets(prompts: readonly string[]): Promise<string[]> {
  const tty = process.stdin.isTTY === true;
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string): Promise<string> => {
    if (tty) output.write(prompt);
    muted = tty;
    const next = await lines.next();
    muted = false;
    if (tty) process.stderr.write('\n');
    if (next.done === true) throw new Error(`no input for "${prompt.trim()}"`);
    return next.value;
  };
  const answers: string[] = [];
  try {
    for (const prompt of prompts) {
      const value = await ask(`${prompt}: `);
      if (tty && (await ask(`${prompt} (again): `)) !== value) throw new Error('the two entries differ');
      if (value === '') throw new Error(`${prompt} must not be empty`);
      answers.push(value);
    }
  } finally {
    rl.close();
  }
  return answers;
}

function checkName(name: string): void {
  if (!USER_NAME.test(name)) throw new Error(`invalid user name "${name}": use letters, digits and . _ @ + = - (max 128)`);
}

export function userCommands(run: Runner): Command {
  const user = new Command('user').description('manage a users file (gateway-managed accounts)');
  const setPassword = (mustExist: boolean) => (name: string, opts: UserOpts) =>
    run(async () => {
      checkName(name);
      const file = new UsersFile(opts.file);
      const exists = file.get(name) !== undefined;
      if (mustExist && !exists) throw new Error(`no user "${name}" in ${opts.file}`);
      if (!mustExist && exists) throw new Error(`user "${name}" already exists in ${opts.file} (use passwd)`);
      const prompts = ['Password'];
      if (opts.sharedSecret === true) prompts.push('APOP/CRAM-MD5 shared secret');
      if (opts.backendUser !== undefined) prompts.push(`Backend password for ${opts.backendUser}`);
      const answers = await readSecrets(prompts);
      const hash = await hashPassword(answers[0] as string);
      const secret = opts.sharedSecret === true ? answers[1] : undefined;
      const backendPassword = opts.backendUser !== undefined ? answers.at(-1) : undefined;
      file.update((users) => {
        const before = users.get(name);
        const record: UserRecord = { password: hash };
        const keepSecret = secret ?? before?.secret;
        if (keepSecret !== undefined) record.secret = keepSecret;
        const backend = opts.backendUser !== undefined ? { user: opts.backendUser, password: backendPassword as string } : before?.backend;
        if (backend !== undefined) record.backend = backend;
        users.set(name, record);
      });
      process.stderr.write(`${mustExist ? 'updated' : 'added'} ${name} in ${opts.file}\n`);
    });
  user
    .command('add <name>')
    .description('add an account (password read from the terminal, or stdin)')
    .requiredOption('-f, --file <users.yaml>', 'users file')
    .option('--shared-secret', 'also store a shared secret for APOP/CRAM-MD5 (kept reversibly: see README)')
    .option('--backend-user <name>', 'also store backend credentials (IMAP user and its password) for auth: mapped')
    .action(setPassword(false));
  user
    .command('passwd <name>')
    .description('change an account password (and shared secret with --shared-secret)')
    .requiredOption('-f, --file <users.yaml>', 'users file')
    .option('--shared-secret', 'also set the shared secret for APOP/CRAM-MD5')
    .option('--backend-user <name>', 'also set the backend credentials for auth: mapped')
    .action(setPassword(true));
  user
    .command('remove <name>')
    .description('remove an account (its mail is left alone)')
    .requiredOption('-f, --file <users.yaml>', 'users file')
    .action((name: string, opts: UserOpts) =>
      run(async () => {
        const file = new UsersFile(opts.file);
        if (file.get(name) === undefined) throw new Error(`no user "${name}" in ${opts.file}`);
        file.update((users) => users.delete(name));
        process.stderr.write(`removed ${name} from ${opts.file}\n`);
      }),
    );
  user
    .command('list')
    .description('list account names')
    .requiredOption('-f, --file <users.yaml>', 'users file')
    .action((opts: UserOpts) =>
      run(async () => {
        for (const name of new UsersFile(opts.file).names()) process.stdout.write(name + '\n');
      }),
    );
  return user;
}
