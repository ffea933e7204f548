/** The S3 backend as the gateway sees it before any mailbox is opened (the AWS SDK is not loaded yet). */
import type { AdapterDescriptor } from '../contract.js';
import { s3TenantSchema } from './config.js';

export const s3Adapter: AdapterDescriptor<'s3', typeof s3TenantSchema> = {
  kind: 's3',
  config: s3TenantSchema,
  pathKeys: ['users', 'stateDir'],
  // The bucket has no per-user passwords: the gateway's users file is the check.
  auth: (c) => ({ kind: 'users-file', path: c.users, mapped: false }),
  async create(c, deps) {
    const { S3Store } = await import('./store.js');
    return new S3Store(c, deps);
  },
};
