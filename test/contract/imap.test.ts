/** The adapter contract suite against the IMAP adapter, on a private real Dovecot (IMAP only). */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { imapTenant, putMessages } from '../helpers/imap-harness.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let dovecot: DovecotInstance;
/** Seeded raw messages by file name (putMessages names sort in delivery order). */
let seeded: { name: string; raw: Buffer }[] = [];

function filesNow(): Map<string, string> {
  const box = dovecot.mailDir('alice');
  const out = new Map<string, string>();
  for (const sub of ['new', 'cur']) for (const f of readdirSync(join(box, sub))) out.set(f.split(':2,')[0] as string, join(box, sub, f));
  return out;
}

function messageIdOf(raw: Buffer): string {
  const m = /^Message-ID: (<[^>\r\n]+>)/im.exec(raw.toString('latin1'));
  if (m === null) throw new Error('removeBehind needs a message with a Message-ID');
  return m[1] as string;
}

const fixture: ContractFixture = {
  name: 'imap',
  login: { user: 'alice', password: 'alicepass' },
  // Passthrough: Dovecot checks the password.
  gatewayUsers: {},
  // README (IMAP adapter, NUL octets): Dovecot's IMAP server sends a NUL as 0x80.
  deviations: { nulSentAs: 0x80 },
  async start() {
    dovecot = await startDovecot({ protocols: ['imap'] });
  },
  async seed(messages) {
    const box = dovecot.mailDir('alice');
    for (const sub of ['new', 'cur']) for (const f of readdirSync(join(box, sub))) rmSync(join(box, sub, f));
    const names = putMessages(dovecot, messages);
    seeded = names.map((name, i) => ({ name: name.split(':2,')[0] as string, raw: messages[i] as Buffer }));
  },
  async contents() {
    const now = filesNow();
    return [...now.keys()].sort().map((k) => readFileSync(now.get(k) as string));
  },
  tenant: () => imapTenant(dovecot.imapPort),
  async removeBehind(index) {
    // Another IMAP client's expunge (doveadm works on the same index).
    await dovecot.doveadm(['expunge', '-u', 'alice', 'mailbox', 'INBOX', 'header', 'Message-ID', messageIdOf((seeded[index] as { raw: Buffer }).raw)]);
  },
  async addBehind(message) {
    putMessages(dovecot, [message]);
  },
  failDeletion: {
    cannot:
      'a real Dovecot expunges every UID it is asked to at QUIT; making one of them stay would take a scripted IMAP server, not the backend this suite runs on',
  },
  async stop() {
    await dovecot?.stop();
  },
};

runContractSuite(fixture);
