/** A gateway whose only tenant is Gmail, served by the stand-in (service account or passthrough). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway, type TestUser } from './gateway.js';
import type { GmailStandin } from './gmail-standin.js';

/** The POP3 login of the service-account tests, and the Google user it acts as. */
export const ALICE_GMAIL = { user: 'alice@example.com', password: 'alicepass' } as const;

export interface GmailGatewayOptions {
  readonly auth?: 'serviceAccount' | 'passthrough';
  /** Tenant keys merged over the defaults. */
  readonly tenant?: Record<string, unknown>;
  readonly users?: Record<string, TestUser>;
  readonly config?: Record<string, unknown>;
}

export function gmailTenant(standin: GmailStandin, paths: { usersFile: string; dir: string }, opts: GmailGatewayOptions = {}): Record<string, unknown> {
  const auth = opts.auth ?? 'serviceAccount';
  const keyFile = join(paths.dir, 'service-account.json');
  if (auth === 'serviceAccount') writeFileSync(keyFile, JSON.stringify(standin.serviceAccountKey), { mode: 0o600 });
  return {
    adapter: 'gmail',
    auth,
    ...(auth === 'serviceAccount' && { serviceAccountKey: keyFile, users: paths.usersFile }),
    domains: ['example.com'],
    userName: '{local}@{domain}',
    baseUrl: standin.baseUrl,
    tokenUrl: standin.tokenUrl,
    // Short waits, so failure tests end quickly; the retries are what is being tested.
    requestTimeoutMs: 5000,
    ...opts.tenant,
  };
}

export function startGmailGateway(standin: GmailStandin, opts: GmailGatewayOptions = {}): Promise<TestGateway> {
  standin.domainUsers.add(ALICE_GMAIL.user);
  return startTestGateway({
    users: opts.users ?? { [ALICE_GMAIL.user]: { password: ALICE_GMAIL.password } },
    tenantConfig: (paths) => gmailTenant(standin, paths, opts),
    ...(opts.config && { config: opts.config }),
  });
}

/** XOAUTH2's initial client response (base64 of `user=...^Aauth=Bearer ...^A^A`). */
export function xoauth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}
