/** Several Maildir tenants (each with its own users file and mail root) in one gateway. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { addMessage, makeMaildir } from './maildir.js';

export interface MaildirTenantSpec {
  /** User name (as the tenant's users file holds it) -> password. */
  readonly users: Readonly<Record<string, string>>;
  /** Tenant settings merged over `{ adapter: 'maildir', path, users }`. */
  readonly settings?: Record<string, unknown>;
}

export interface MultiTenantOptions {
  readonly maildir: Readonly<Record<string, MaildirTenantSpec>>;
  /** Other tenants, as raw config (IMAP to the test Dovecot, say). */
  readonly raw?: Readonly<Record<string, Record<string, unknown>>>;
  readonly defaultTenant?: string;
  readonly config?: Record<string, unknown>;
  readonly listeners?: readonly { tls: 'none' | 'starttls' | 'implicit' }[];
}

export interface MultiTenantGateway extends TestGateway {
  /** The Maildir of `user` (the backend user name) in Maildir tenant `tenant`. */
  mailOf(tenant: string, user: string): string;
  /** Delivers a message whose Subject names tenant and user, so a listing shows whose mailbox it is. */
  deliverTagged(tenant: string, user: string): string;
  /** The raw tenant config blocks, for reload tests that write a config file. */
  readonly tenantBlocks: Record<string, Record<string, unknown>>;
}

export function taggedBody(tenant: string, user: string): string {
  return `From: sender@example.net\nTo: ${user}\nSubject: for ${user} in ${tenant}\n\nThis is ${tenant}/${user}.\n`;
}

export async function startMultiTenantGateway(opts: MultiTenantOptions): Promise<MultiTenantGateway> {
  const root = mkdtempSync(join(tmpdir(), 'popgate-tenants-'));
  const tenantBlocks: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(opts.maildir)) {
    const usersFile = join(root, `${name}-users.yaml`);
    const hashed = await Promise.all(Object.entries(spec.users).map(async ([u, pw]) => [u, await hashPassword(pw)] as const));
    new UsersFile(usersFile).update((map) => {
      for (const [u, password] of hashed) map.set(u, { password });
    });
    for (const u of Object.keys(spec.users)) makeMaildir(join(root, name, u));
    tenantBlocks[name] = { adapter: 'maildir', path: join(root, name, '{user}'), users: usersFile, ...spec.settings };
  }
  Object.assign(tenantBlocks, opts.raw);
  const gw = await startTestGateway({
    users: {},
    ...(opts.listeners && { listeners: opts.listeners }),
    config: { tenants: tenantBlocks, ...(opts.defaultTenant !== undefined && { defaultTenant: opts.defaultTenant }), ...opts.config },
  });
  const mailOf = (tenant: string, user: string): string => join(root, tenant, user);
  return {
    ...gw,
    tenantBlocks,
    mailOf,
    deliverTagged: (tenant, user) => addMessage(mailOf(tenant, user), taggedBody(tenant, user)),
    async stop(graceMs = 0) {
      await gw.stop(graceMs);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
