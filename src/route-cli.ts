/**
 * `popgate route <login>`: which tenant, adapter and backend user a login name reaches, from the
 * config alone (no backend is contacted, no users file is read).
 */
import { Command } from 'commander';
import { adapterFor } from '../adapters/index.js';
import { configPathFrom, loadConfigFile } from './config/loader.js';
import type { Config, TenantConfig } from './config/schema.js';
import { loadTlsContexts } from './pop3/tls-contexts.js';
import { Router, certificateNames, type RoutableTenant, type RouteResult } from './routing/router.js';
import { describeAuth } from './tenant-auth.js';

type Runner = (action: () => Promise<void>) => Promise<void>;

export function routerFor(config: Config): Router<RoutableTenant> {
  const tenants = Object.entries(config.tenants).map(([name, tc]) => ({ name, config: tc }));
  const serverNames = new Map(
    tenants.map(({ name, config: tc }) => [name, certificateNames(tc, (files) => loadTlsContexts(files, `tenants.${name}.certificate`).dnsNames)] as const),
  );
  return new Router({ tenants, defaultTenant: config.defaultTenant, serverNames });
}

/** Where the backend user's mail lives, in the adapter's own terms. */
function backendOf(tc: TenantConfig, user: string): string {
  return adapterFor(tc.adapter).describeBackend?.(tc, user) ?? tc.adapter;
}

function authOf(tc: TenantConfig): string {
  return describeAuth(adapterFor(tc.adapter).auth(tc));
}

export function describeRoute(r: RouteResult<RoutableTenant>): string {
  if (!r.ok) return `no route: ${r.reason}\n`;
  const tc = r.tenant.config;
  const how =
    r.via === 'domain'
      ? `domain ${r.matched ?? ''} (separator ${r.separator ?? '@'})`
      : r.via === 'server-name'
        ? `TLS server name ${r.matched ?? ''}`
        : 'defaultTenant';
  const lines = [
    ['tenant', r.tenant.name],
    ['matched by', how],
    ['adapter', tc.adapter],
    ['auth', authOf(tc)],
    ['local part', r.local],
    ['domain', r.domain ?? '-'],
    ['backend user', r.user],
    ['backend', backendOf(tc, r.user)],
    ['recent mode', r.recent ? `yes: the last ${tc.recent.days} days` : 'no'],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}\n`).join('');
}

export function routeCommand(run: Runner): Command {
  return new Command('route')
    .description('show which tenant, adapter and backend user a login name resolves to (connects nowhere)')
    .argument('<login>', 'the login name as a POP3 client would send it')
    .option('-c, --config <file>', 'config file (default: $POPGATE_CONFIG)')
    .option('--sni <name>', 'the TLS server name the client would send')
    .option('--json', 'print JSON')
    .action((login: string, opts: { config?: string; sni?: string; json?: boolean }) =>
      run(async () => {
        const result = routerFor(loadConfigFile(configPathFrom(opts.config))).route(login, opts.sni);
        if (opts.json === true) {
          const { tenant, ...rest } = result.ok ? result : { ...result, tenant: undefined };
          process.stdout.write(JSON.stringify({ ...rest, ...(tenant !== undefined && { tenant: tenant.name, adapter: tenant.config.adapter }) }) + '\n');
        } else {
          process.stdout.write(describeRoute(result));
        }
        if (!result.ok) process.exitCode = 1;
      }),
    );
}
