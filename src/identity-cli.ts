/**
 * `popgate link list|revoke`, `popgate device-password add|list|remove`, `popgate keys
 * generate|rotate`: the grants store of a config's `identity.grants`, worked on directly (the
 * gateway may run meanwhile: it sees each change at its next read of the file).
 */
import { Command } from 'commander';
import { configPathFrom, loadConfigFile } from './config/loader.js';
import { Identity } from './identity/identity.js';
import { generateKeyText } from './identity/keyring.js';
import type { LinkSummary } from './identity/grant-record.js';
import type { Links } from './identity/links.js';
import { createLogger } from './logger.js';

type Runner = (action: () => Promise<void>) => Promise<void>;

interface ConfigOpts {
  config?: string;
}

/** The links API of the config's grants store; warnings (a revocation the provider refused) go to stderr. */
async function linksOf(opts: ConfigOpts): Promise<Links> {
  const config = loadConfigFile(configPathFrom(opts.config));
  const identity = await Identity.load(config.identity, createLogger('warn', process.stderr));
  const links = identity.grants?.links;
  if (links === undefined) throw new Error('the config has no identity.grants (where linked mailboxes are kept)');
  return links;
}

function describeLink(l: LinkSummary): string {
  const devices =
    l.devicePasswords.length === 0 ? 'no device passwords' : `${l.devicePasswords.length} device password${l.devicePasswords.length === 1 ? '' : 's'}`;
  const why = l.stateReason === undefined ? '' : ` (${l.stateReason})`;
  return `${l.account}\t${l.provider}\t${l.address}\t${l.state}${why}\t${devices}\tupdated ${l.updatedAt}\n`;
}

const configOption = ['-c, --config <file>', 'config file (default: $POPGATE_CONFIG)'] as const;

export function linkCommands(run: Runner): Command {
  const link = new Command('link').description('linked mailboxes (the OAuth grants popgate holds for gateway accounts)');
  link
    .command('list')
    .description("list every account's link: account, provider, mailbox address, state, device passwords")
    .option(...configOption)
    .option('--json', 'print JSON')
    .action((opts: ConfigOpts & { json?: boolean }) =>
      run(async () => {
        const all = await (await linksOf(opts)).list();
        if (opts.json === true) process.stdout.write(`${JSON.stringify(all)}\n`);
        else for (const l of all) process.stdout.write(describeLink(l));
      }),
    );
  link
    .command('revoke <account>')
    .description("revoke an account's grant at the provider and unlink it here (device passwords stay, opening nothing)")
    .option(...configOption)
    .action((account: string, opts: ConfigOpts) =>
      run(async () => {
        const { link: l, revokedAtProvider } = await (await linksOf(opts)).revoke(account, 'operator (popgate link revoke)');
        process.stderr.write(
          `revoked the link of ${l.account} (${l.address} at ${l.provider})${revokedAtProvider ? '' : '; the provider was not told (no revocation endpoint, or it failed)'}\n`,
        );
      }),
    );
  return link;
}

export function devicePasswordCommands(run: Runner): Command {
  const device = new Command('device-password').description("a linked account's device passwords (what POP3 devices log in with)");
  device
    .command('add <account>')
    .description('generate a device password; it is printed once, on stdout, and only its hash is kept')
    .requiredOption('-n, --name <name>', 'what the device is, e.g. "office scanner"')
    .option(...configOption)
    .action((account: string, opts: ConfigOpts & { name: string }) =>
      run(async () => {
        const added = await (await linksOf(opts)).addDevicePassword(account, opts.name);
        process.stdout.write(`${added.password}\n`);
        process.stderr.write(`added device password "${added.name}" (id ${added.id}) for ${account}: it is shown only now\n`);
      }),
    );
  device
    .command('list <account>')
    .description("list an account's device passwords (names, ids, when made and last used)")
    .option(...configOption)
    .action((account: string, opts: ConfigOpts) =>
      run(async () => {
        const l = await (await linksOf(opts)).get(account);
        if (l === undefined) throw new Error(`account ${account} has no link`);
        for (const d of l.devicePasswords) process.stdout.write(`${d.id}\t${d.name}\tcreated ${d.createdAt}\tlast used ${d.lastUsedAt ?? 'never'}\n`);
      }),
    );
  device
    .command('remove <account> <id-or-name>')
    .description('remove a device password by id, or every one with that name')
    .option(...configOption)
    .action((account: string, idOrName: string, opts: ConfigOpts) =>
      run(async () => {
        const removed = await (await linksOf(opts)).removeDevicePassword(account, idOrName);
        if (removed === 0) throw new Error(`account ${account} has no device password ${idOrName}`);
        process.stderr.write(`removed ${removed} device password${removed === 1 ? '' : 's'} of ${account}\n`);
      }),
    );
  return device;
}

export function keyCommands(run: Runner): Command {
  const keys = new Command('keys').description('the keys that encrypt refresh tokens in the grants store');
  keys
    .command('generate')
    .description('print a new random key (put it first in the key file to make it current)')
    .action(() =>
      run(async () => {
        process.stdout.write(`${generateKeyText()}\n`);
      }),
    );
  keys
    .command('rotate')
    .description('seal every stored refresh token again with the current (first) key, so older keys can be removed')
    .option(...configOption)
    .action((opts: ConfigOpts) =>
      run(async () => {
        const { changed, keyId } = await (await linksOf(opts)).rotateKeys();
        process.stderr.write(`re-encrypted ${changed} grant${changed === 1 ? '' : 's'} with key ${keyId}\n`);
      }),
    );
  return keys;
}
