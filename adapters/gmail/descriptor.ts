/** The Gmail backend as the gateway sees it before any mailbox is opened (undici is not loaded yet). */
import type { AdapterDescriptor } from '../contract.js';
import { gmailTenantSchema } from './config.js';

export const gmailAdapter: AdapterDescriptor<'gmail', typeof gmailTenantSchema> = {
  kind: 'gmail',
  config: gmailTenantSchema,
  pathKeys: ['users', 'serviceAccountKey', 'stateDir'],
  auth: (c) => {
    switch (c.auth) {
      case 'serviceAccount':
        // The schema requires `users` with a service account: devices log in with a gateway password.
        return { kind: 'users-file', path: c.users as string, mapped: false };
      case 'grant':
        return { kind: 'grant', provider: c.provider as string };
      default:
        return { kind: 'passthrough', passwords: false, tokens: true };
    }
  },
  describeBackend: (c, user) => `gmail ${user} (${c.query !== undefined ? `query ${c.query}` : `label ${c.label ?? 'INBOX'}`}, ${c.auth})`,
  async create(c, deps) {
    const { GmailStore } = await import('./store.js');
    return new GmailStore(c, deps);
  },
};
