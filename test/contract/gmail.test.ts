/** The adapter contract suite against the Gmail adapter: the Gmail API stand-in, a service account, deleteMode trash. */
import { ALICE_GMAIL, gmailTenant } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let g: GmailStandin;
/** Gmail ids in seeding order. */
let ids: string[] = [];

const fixture: ContractFixture = {
  name: 'gmail',
  login: ALICE_GMAIL,
  gatewayUsers: { [ALICE_GMAIL.user]: { password: ALICE_GMAIL.password } },
  deviations: { nulSentAs: 0x00 },
  async start() {
    g = await startGmailStandin();
    g.domainUsers.add(ALICE_GMAIL.user);
  },
  async seed(messages) {
    g.clear(ALICE_GMAIL.user);
    ids = messages.map((raw) => g.add(ALICE_GMAIL.user, raw));
  },
  async contents() {
    return g.inbox(ALICE_GMAIL.user).map((m) => m.raw);
  },
  // The stand-in has no quota: pacing at Gmail's 250 units/s would make the 10,000-message case
  // take 200 s (the README gives that figure); what is tested here is the listing and the counts.
  tenant: (paths) => gmailTenant(g, paths, { tenant: { unitsPerSecond: 1_000_000, maxInFlightPerUser: 16 } }),
  async removeBehind(index) {
    g.remove(ALICE_GMAIL.user, ids[index] as string);
  },
  async addBehind(message) {
    ids.push(g.add(ALICE_GMAIL.user, message));
  },
  // batchModify naming that id is refused (400), and so is its one-by-one modify: it stays in INBOX.
  async failDeletion(index) {
    const id = ids[index] as string;
    g.refuseChanges((x) => x === id);
    return async () => g.refuseChanges(undefined);
  },
  async stop() {
    await g?.close();
  },
};

runContractSuite(fixture);
