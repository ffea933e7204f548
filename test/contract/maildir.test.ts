/** The adapter contract suite against the Maildir adapter (a Maildir in a temporary folder). */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMessage, makeMaildir } from '../helpers/maildir.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let root = '';
let box = '';
/** File names in seeding order (new/ + name). */
let files: string[] = [];
let clock = 1_700_000_000;

function locate(name: string): string | undefined {
  for (const sub of ['new', 'cur']) {
    const hit = readdirSync(join(box, sub)).find((f) => f === name || f.startsWith(`${name}:2,`));
    if (hit !== undefined) return join(box, sub, hit);
  }
  return undefined;
}

const fixture: ContractFixture = {
  name: 'maildir',
  login: { user: 'alice', password: 'alicepass' },
  gatewayUsers: { alice: { password: 'alicepass' } },
  deviations: { nulSentAs: 0x00 },
  async start() {
    root = mkdtempSync(join(tmpdir(), 'popgate-contract-maildir-'));
    box = makeMaildir(join(root, 'alice'));
  },
  async seed(messages) {
    for (const sub of ['new', 'cur']) for (const f of readdirSync(join(box, sub))) rmSync(join(box, sub, f), { recursive: true });
    // Half with ,S=/,W= in the name (as Dovecot delivers), half without (sizes computed).
    files = messages.map((content, i) => addMessage(box, content, { time: clock++, sizeFields: i % 2 === 0 }));
  },
  async contents() {
    return files
      .map(locate)
      .filter((p): p is string => p !== undefined)
      .map((p) => readFileSync(p));
  },
  tenant: ({ usersFile }) => ({ adapter: 'maildir', path: join(root, '{user}'), users: usersFile }),
  async removeBehind(index) {
    unlinkSync(locate(files[index] as string) as string);
  },
  async addBehind(message) {
    files.push(addMessage(box, message, { time: clock++ }));
  },
  // unlink() of a directory fails (EISDIR), even for root: the file is moved aside and a
  // directory of its name takes its place until the undo.
  async failDeletion(index) {
    const path = locate(files[index] as string) as string;
    const aside = `${root}/aside-${index}`;
    renameSync(path, aside);
    mkdirSync(path);
    return async () => {
      rmdirSync(path);
      renameSync(aside, path);
    };
  },
  async stop() {
    rmSync(root, { recursive: true, force: true });
  },
};

runContractSuite(fixture);
