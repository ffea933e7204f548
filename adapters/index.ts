/** Adapter registry: a tenant's `adapter:` name -> the factory of its MailStore. */
import type { Logger } from 'pino';
import type { TenantConfig } from '../src/config/schema.js';
import type { MailStore } from './contract.js';
import { ImapStore } from './imap/store.js';
import { MaildirStore } from './maildir/store.js';
import { MemoryStore } from './memory/store.js';
import { S3Store } from './s3/store.js';

export interface AdapterDeps {
  readonly logger: Logger;
  /** The POP3 idle timeout: backend connections must stay up at least this long while quiet. */
  readonly sessionIdleMs: number;
}

export function createStore(tenant: TenantConfig, deps: AdapterDeps): MailStore {
  switch (tenant.adapter) {
    case 'maildir':
      return new MaildirStore({ path: tenant.path, deleteMode: tenant.deleteMode, logger: deps.logger });
    case 'imap':
      return new ImapStore(tenant, deps.logger, deps.sessionIdleMs);
    case 's3':
      return new S3Store(tenant, deps.logger, deps.sessionIdleMs);
    case 'memory':
      return new MemoryStore(tenant);
  }
}
