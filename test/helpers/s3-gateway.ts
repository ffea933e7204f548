/** A gateway whose only tenant is an S3 bucket (s3rver, or the test proxy in front of it). */
import type { S3TenantConfig } from '../../adapters/s3/config.js';
import { tenantSchema } from '../../src/config/schema.js';
import { startTestGateway, type TestGateway, type TestUser } from './gateway.js';
import { BUCKET, S3RVER_KEY } from './s3rver.js';

export interface S3GatewayOptions {
  /** Tenant keys merged over the defaults (prefix `inbound/{user}/`, deleteMode `delete`). */
  readonly tenant?: Record<string, unknown>;
  readonly users?: Record<string, TestUser>;
  readonly config?: Record<string, unknown>;
}

export function s3Tenant(endpoint: string, usersFile: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    adapter: 's3',
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { ...S3RVER_KEY },
    prefix: 'inbound/{user}/',
    users: usersFile,
    // Short waits, so outage tests end quickly; the retries are what is being tested.
    connectTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    ...extra,
  };
}

/** The tenant's parsed settings, defaults filled (for tests that drive adapter parts directly). */
export function s3TenantConfig(endpoint: string, extra: Record<string, unknown> = {}): S3TenantConfig {
  const t = tenantSchema.parse(s3Tenant(endpoint, '/dev/null', extra));
  if (t.adapter !== 's3') throw new Error('not an S3 tenant');
  return t;
}

export function startS3Gateway(endpoint: string, opts: S3GatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway({
    ...(opts.users && { users: opts.users }),
    tenantConfig: ({ usersFile }) => s3Tenant(endpoint, usersFile, opts.tenant),
    ...(opts.config && { config: opts.config }),
  });
}

/** Where alice's mail lives with the default prefix. */
export const ALICE_PREFIX = 'inbound/alice/';

/** JSON log lines of a gateway (from index `from`). */
export function logLines(gw: TestGateway, from = 0): Record<string, unknown>[] {
  return gw.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
}
