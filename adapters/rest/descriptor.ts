/** The REST backend as the gateway sees it before any mailbox is opened (undici is not loaded yet). */
import type { AdapterDescriptor } from '../contract.js';
import { restTenantSchema } from './config.js';

export const restAdapter: AdapterDescriptor<'rest', typeof restTenantSchema> = {
  kind: 'rest',
  config: restTenantSchema,
  pathKeys: ['users', 'secretFile', 'stateDir'],
  auth: (c) => {
    switch (c.auth) {
      case 'passthrough':
        // The store checks the POP3 password (passed on as basic auth); no tokens to pass.
        return { kind: 'passthrough', passwords: true, tokens: false };
      case 'grant':
        return { kind: 'grant', provider: c.provider as string };
      default:
        // The schema requires `users` with bearer and basic.
        return { kind: 'users-file', path: c.users as string, mapped: false };
    }
  },
  describeBackend: (c, user) => `rest ${c.baseUrl} mailbox ${c.mailbox.replaceAll('{user}', user)} (auth ${c.auth})`,
  async create(c, deps) {
    const { RestStore } = await import('./store.js');
    return new RestStore(c, deps);
  },
};
