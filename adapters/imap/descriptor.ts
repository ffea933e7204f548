/** The IMAP backend as the gateway sees it before any mailbox is opened (imapflow is not loaded yet). */
import type { AdapterDescriptor } from '../contract.js';
import { imapTenantSchema } from './config.js';

export const imapAdapter: AdapterDescriptor<'imap', typeof imapTenantSchema> = {
  kind: 'imap',
  config: imapTenantSchema,
  pathKeys: ['ca', 'users'],
  auth: (c) =>
    c.auth === 'mapped'
      ? // The schema requires `users` with `auth: mapped`.
        { kind: 'users-file', path: c.users as string, mapped: true }
      : { kind: 'passthrough', passwords: c.auth === 'passthrough', tokens: true },
  describeBackend: (c) => `imap ${c.host}:${c.port ?? (c.tls === 'implicit' ? 993 : 143)} (tls ${c.tls}) folder ${c.folder}`,
  async create(c, deps) {
    const { ImapStore } = await import('./store.js');
    return new ImapStore(c, deps.logger, deps.sessionIdleMs);
  },
};
