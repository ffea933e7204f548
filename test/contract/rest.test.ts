/**
 * The adapter contract suite against the REST adapter and the reference store, with sizes left
 * out of the listing (so every size is counted by the adapter, the harder path) and ETags given.
 */
import { REST_TOKEN, restTenant } from '../helpers/rest-gateway.js';
import { startRestStore, type RestStoreServer } from '../helpers/rest-store.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let store: RestStoreServer;
const MAILBOX = 'alice';

const fixture: ContractFixture = {
  name: 'rest',
  login: { user: 'alice', password: 'alicepass' },
  gatewayUsers: { alice: { password: 'alicepass' } },
  deviations: { nulSentAs: 0x00 },
  async start() {
    store = await startRestStore({ auth: { kind: 'bearer', token: REST_TOKEN }, sizes: false, etags: true });
  },
  async seed(messages) {
    store.clearFaults();
    store.seed(MAILBOX, messages);
  },
  async contents() {
    return (store.mailboxes.get(MAILBOX) ?? []).map((m) => m.raw);
  },
  tenant: ({ usersFile }) => restTenant(store.baseUrl, usersFile),
  async removeBehind(index) {
    const m = store.mailboxes.get(MAILBOX)?.[index];
    if (m !== undefined) store.remove(MAILBOX, m.id);
  },
  async addBehind(message) {
    store.add(MAILBOX, message);
  },
  // The store answers `error` for that id inside the :delete answer.
  async failDeletion(index) {
    const id = store.mailboxes.get(MAILBOX)?.[index]?.id as string;
    store.refuse.set(id, 'refused by the test');
    return async () => {
      store.refuse.delete(id);
    };
  },
  async stop() {
    await store?.stop();
  },
};

runContractSuite(fixture);
