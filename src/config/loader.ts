/** Reads the config file (YAML), validates it and resolves relative paths. The only reader of process.env. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { adapterFor } from '../../adapters/index.js';
import { ConfigError } from '../errors.js';
import type { IdentityConfig } from '../identity/config.js';
import { configSchema, type Config, type TenantConfig } from './schema.js';

export const CONFIG_ENV = 'POPGATE_CONFIG';

/** The config path from the command line, else from POPGATE_CONFIG. */
export function configPathFrom(cliPath: string | undefined): string {
  const path = cliPath ?? process.env[CONFIG_ENV];
  if (path === undefined || path === '') {
    throw new ConfigError([`no config file: pass --config FILE or set ${CONFIG_ENV}`]);
  }
  return path;
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfig(text, dirname(resolve(path)));
}

/** Parses and validates YAML text; relative paths are taken from `baseDir`. */
export function parseConfig(text: string, baseDir: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // After the first syntax error the parser reports every later token too: the first says it.
    throw new ConfigError(doc.errors.slice(0, 1).map((e) => `yaml: ${e.message.split('\n')[0]}`));
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // toJS refuses alias bombs (and other unresolvable documents) by throwing: still a bad config.
    throw new ConfigError([`yaml: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = configSchema.safeParse(data ?? {});
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues));
  return resolvePaths(result.data, baseDir);
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const key = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
    return `${key}: ${issue.message}`;
  });
}

function resolvePaths(cfg: Config, baseDir: string): Config {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const tenants: Config['tenants'] = {};
  for (const [name, t] of Object.entries(cfg.tenants)) {
    const own = adapterPaths(t, abs);
    tenants[name] =
      own.certificate === undefined ? own : { ...own, certificate: { ...own.certificate, cert: abs(own.certificate.cert), key: abs(own.certificate.key) } };
  }
  const redisCa = cfg.redis?.tls?.ca;
  return {
    ...cfg,
    tenants,
    tls: cfg.tls && { cert: abs(cfg.tls.cert), key: abs(cfg.tls.key) },
    redis: cfg.redis && (redisCa === undefined ? cfg.redis : { ...cfg.redis, tls: { ...cfg.redis.tls, ca: abs(redisCa) } }),
    ...(cfg.identity !== undefined && { identity: identityPaths(cfg.identity, abs) }),
  };
}

/** The grants store, its key file, the client secret files and the consent pages' files, resolved like every other path. */
function identityPaths(identity: IdentityConfig, abs: (p: string) => string): IdentityConfig {
  const providers: IdentityConfig['providers'] = {};
  for (const [name, p] of Object.entries(identity.providers)) {
    providers[name] = p.clientSecretFile === undefined ? p : { ...p, clientSecretFile: abs(p.clientSecretFile) };
  }
  const grants = identity.grants;
  const web = identity.web;
  return {
    ...identity,
    providers,
    ...(grants !== undefined && {
      grants: { ...grants, file: abs(grants.file), ...(grants.keyFile !== undefined && { keyFile: abs(grants.keyFile) }) },
    }),
    ...(web !== undefined && {
      web: {
        ...web,
        users: abs(web.users),
        ...(web.sessionKeyFile !== undefined && { sessionKeyFile: abs(web.sessionKeyFile) }),
        ...(web.tls !== undefined && { tls: { cert: abs(web.tls.cert), key: abs(web.tls.key) } }),
      },
    }),
  };
}

/** The settings the tenant's adapter names as file paths, resolved like the gateway's own. */
function adapterPaths(t: TenantConfig, abs: (p: string) => string): TenantConfig {
  const resolved: Record<string, unknown> = { ...t };
  for (const key of adapterFor(t.adapter).pathKeys) {
    const value = resolved[key];
    // An unset optional path stays unset (the key is kept, as undefined).
    resolved[key] = typeof value === 'string' ? abs(value) : value;
  }
  const adapter = adapterFor(t.adapter);
  return (adapter.resolveNestedPaths?.(resolved, abs) ?? resolved) as TenantConfig;
}
