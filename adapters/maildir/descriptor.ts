/** The embedded default backend, as the gateway sees it before any mailbox is opened. */
import type { AdapterDescriptor } from '../contract.js';
import { maildirTenantSchema } from './config.js';

export const maildirAdapter: AdapterDescriptor<'maildir', typeof maildirTenantSchema> = {
  kind: 'maildir',
  config: maildirTenantSchema,
  pathKeys: ['path', 'users'],
  // A Maildir has no passwords: the gateway's users file is the check.
  auth: (c) => ({ kind: 'users-file', path: c.users, mapped: false }),
  describeBackend: (c, user) => `maildir ${c.path.replaceAll('{user}', user)}`,
  async create(c, deps) {
    const { MaildirStore } = await import('./store.js');
    return new MaildirStore({ path: c.path, deleteMode: c.deleteMode, logger: deps.logger });
  },
};
