/** The IMAP backend as the gateway sees it before any mailbox is opened (imapflow is not loaded yet). */
import type { AdapterDescriptor } from '../contract.js';
import { imapTenantSchema } from './config.js';

export const imapAdapter: AdapterDescriptor<'imap', typeof imapTenantSchema> = {
  kind: 'imap',
  config: imapTenantSchema,
  pathKeys: ['ca', 'users'],
  // The schema requires `users` with mapped and appOnly, and `provider` with grant and appOnly.
  auth: (c) => {
    switch (c.auth) {
      case 'mapped':
        return { kind: 'users-file', path: c.users as string, mapped: true };
      case 'grant':
        return { kind: 'grant', provider: c.provider as string };
      case 'appOnly':
        return { kind: 'app-only', provider: c.provider as string, path: c.users as string };
      default:
        return { kind: 'passthrough', passwords: c.auth === 'passthrough', tokens: true };
    }
  },
  describeBackend: (c) => `imap ${c.host}:${c.port ?? (c.tls === 'implicit' ? 993 : 143)} (tls ${c.tls}) folder ${c.folder}`,
  async create(c, deps) {
    const { ImapStore } = await import('./store.js');
    return new ImapStore(c, deps.logger, deps.sessionIdleMs);
  },
};
