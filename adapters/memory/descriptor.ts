/** The memory backend as the gateway sees it: settings, paths, who checks passwords, the store. */
import { ConfigError, type AdapterDescriptor } from '../contract.js';
import { memoryTenantSchema, type MemoryMailboxConfig } from './config.js';

export const memoryAdapter: AdapterDescriptor<'memory', typeof memoryTenantSchema> = {
  kind: 'memory',
  config: memoryTenantSchema,
  pathKeys: ['users'],
  resolveNestedPaths(c, abs) {
    const mailboxes: Record<string, MemoryMailboxConfig> = {};
    for (const [user, box] of Object.entries(c.mailboxes)) mailboxes[user] = 'folder' in box ? { folder: abs(box.folder) } : box;
    return { ...c, mailboxes };
  },
  // Nothing in memory holds passwords: the gateway's users file is the check.
  auth: (c) => ({ kind: 'users-file', path: c.users, mapped: false }),
  describeBackend: (_c, user) => `memory mailbox ${user}`,
  async create(c) {
    const { MemoryStore } = await import('./store.js');
    try {
      return new MemoryStore(c);
    } catch (err) {
      // An unreadable folder or a repeated id is a config problem, reported with the others.
      throw new ConfigError([(err as Error).message]);
    }
  },
};
