/** Starts a real popgate in this process on 127.0.0.1:0 with a temporary Maildir and users file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { makeMaildir } from './maildir.js';
import { testCert } from './tls.js';

export interface TestUser {
  readonly password: string;
  readonly secret?: string;
  /** Stored backend credentials (for `auth: mapped` tenants). */
  readonly backend?: { readonly user: string; readonly password: string };
}

export interface TestGatewayOptions {
  /** Users to create (default: alice/alicepass). */
  readonly users?: Record<string, TestUser>;
  /** Listener TLS modes to open, in order (default: ['none']). */
  readonly listeners?: readonly {
    tls: 'none' | 'starttls' | 'implicit';
    legacyTls?: boolean;
    proxyProtocol?: { trusted: readonly string[]; timeoutMs?: number };
  }[];
  /** Raw config keys merged over the defaults (top-level keys replace; `limits.authPenalty` defaults to off). */
  readonly config?: Record<string, unknown>;
  /** Extra tenant settings merged into the single `main` tenant. */
  readonly tenant?: Record<string, unknown>;
  /** The whole `main` tenant, replacing the default Maildir one (e.g. an IMAP tenant). */
  readonly tenantConfig?: Record<string, unknown> | ((paths: { usersFile: string; dir: string }) => Record<string, unknown>);
}

export interface TestGateway {
  readonly gateway: Gateway;
  /** Port of each listener, in the order given. */
  readonly ports: readonly number[];
  readonly port: number;
  readonly dir: string;
  readonly usersFile: string;
  readonly config: Config;
  /** Every JSON log line written so far. */
  readonly logs: string[];
  maildir(user: string): string;
  stop(graceMs?: number): Promise<void>;
}

export const ALICE = { user: 'alice', password: 'alicepass' } as const;

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-test-'));
  const usersFile = join(dir, 'users.yaml');
  const users = opts.users ?? { [ALICE.user]: { password: ALICE.password } };
  const hashed = await Promise.all(Object.entries(users).map(async ([name, u]) => [name, await hashPassword(u.password), u] as const));
  new UsersFile(usersFile).update((map) => {
    for (const [name, password, u] of hashed) {
      map.set(name, { password, ...(u.secret !== undefined && { secret: u.secret }), ...(u.backend !== undefined && { backend: { ...u.backend } }) });
    }
  });
  for (const name of Object.keys(users)) makeMaildir(join(dir, 'mail', name));
  const listeners = (opts.listeners ?? [{ tls: 'none' }]).map((l) => ({ host: '127.0.0.1', port: 0, ...l }));
  const needsTls = listeners.some((l) => l.tls !== 'none');
  const cert = needsTls ? testCert() : undefined;
  const raw: Record<string, unknown> = {
    listeners,
    ...(cert && { tls: { cert: cert.certPath, key: cert.keyPath } }),
    tenants: {
      main: (typeof opts.tenantConfig === 'function' ? opts.tenantConfig({ usersFile, dir }) : opts.tenantConfig) ?? {
        adapter: 'maildir',
        path: join(dir, 'mail', '{user}'),
        users: usersFile,
        ...opts.tenant,
      },
    },
    defaultTenant: 'main',
    allowPlaintextAuth: 'always',
    limits: { authFailureDelayMs: 50 },
    log: { level: 'debug' },
    ...opts.config,
  };
  // Login penalties are off unless a test sets limits.authPenalty: they would slow every test
  // that fails logins on purpose (test/protocol/auth-penalty.test.ts tests them).
  raw.limits = { authPenalty: { baseMs: 0 }, ...(raw.limits as Record<string, unknown>) };
  const config = configSchema.parse(raw);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const gateway = await startGateway(config, createLogger(config.log.level, sink));
  const ports = gateway.listeners.map((l) => l.address.port);
  return {
    gateway,
    ports,
    port: ports[0] as number,
    dir,
    usersFile,
    config,
    logs,
    maildir: (user) => join(dir, 'mail', user),
    async stop(graceMs = 0) {
      await gateway.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
