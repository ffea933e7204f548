/** A gateway whose only tenant is a REST store (the reference server), and its fixtures. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway, type TestUser } from './gateway.js';
import { startRestStore, type RestStoreOptions, type RestStoreServer } from './rest-store.js';

export const REST_TOKEN = 'test-token-0123456789';

/** A file holding the token, as an operator would keep it (with the line end editors add). */
export function tokenFile(token = REST_TOKEN): string {
  const path = join(mkdtempSync(join(tmpdir(), 'popgate-rest-')), 'token');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return path;
}

export function restTenant(baseUrl: string, usersFile: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    adapter: 'rest',
    baseUrl,
    ...(usersFile !== undefined && { auth: 'bearer', secretFile: tokenFile(), users: usersFile }),
    // Short waits, so failure tests end quickly; the retries are what is being tested.
    requestTimeoutMs: 3000,
    ...extra,
  };
}

export interface RestStack {
  readonly store: RestStoreServer;
  readonly gw: TestGateway;
}

/** A reference store (bearer REST_TOKEN unless told) and a gateway in front of it. */
export async function startRestStack(
  opts: { store?: Partial<RestStoreOptions>; tenant?: Record<string, unknown>; users?: Record<string, TestUser>; passthrough?: boolean } = {},
): Promise<RestStack> {
  const store = await startRestStore({ auth: { kind: 'bearer', token: REST_TOKEN }, sizes: true, etags: true, ...opts.store });
  const gw = await startTestGateway({
    ...(opts.users && { users: opts.users }),
    tenantConfig: ({ usersFile }) =>
      opts.passthrough === true
        ? restTenant(store.baseUrl, undefined, { auth: 'passthrough', ...opts.tenant })
        : restTenant(store.baseUrl, usersFile, opts.tenant),
  });
  return { store, gw };
}

export async function stopRestStack(s: Partial<RestStack>): Promise<void> {
  await s.gw?.stop();
  await s.store?.stop();
}
