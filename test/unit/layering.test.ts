/**
 * One-way layering: the POP3 core stands on the adapter contract alone, adapters never reach
 * into src/, and the heavy client libraries (AWS SDK, imapflow, ioredis, openid-client) load only
 * when a tenant or an identity provider needs them. Checked on what Node actually loads (a
 * resolve hook in a child process) and on the import specifiers of the sources.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (this file runs as dist/test/unit/layering.test.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST = join(ROOT, 'dist');
const HEAVY = ['@aws-sdk', 'imapflow', 'ioredis', 'openid-client'];

const hookDir = mkdtempSync(join(tmpdir(), 'popgate-layering-'));
after(() => rmSync(hookDir, { recursive: true, force: true }));

/** Runs with --import: every module URL Node resolves is written to stderr, one per line. */
const hookFile = join(hookDir, 'record-resolved.mjs');
writeFileSync(
  hookFile,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "export async function resolve(specifier, context, next) {" +
  "  const result = await next(specifier, context);" +
  "  process.stderr.write('resolved ' + result.url + '\\\\n');" +
  "  return result;" +
  "}"));
`,
);

/** The URLs a fresh Node loads for importing these compiled modules (paths under dist/). */
function loadedBy(...modules: string[]): string[] {
  const imports = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(join(DIST, m)).href)});`).join(' ');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hookFile).href, '--input-type=module', '-e', imports], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr.split('\n').flatMap((line) => (line.startsWith('resolved ') ? [line.slice('resolved '.length)] : []));
}

const heavyIn = (urls: readonly string[]): string[] => urls.filter((u) => HEAVY.some((h) => u.includes(h)));

describe('what loading a layer loads', () => {
  it('the resolve hook sees the client libraries when an adapter store is loaded (the check below can fail)', () => {
    const urls = loadedBy('adapters/s3/store.js', 'adapters/imap/store.js');
    assert.ok(
      urls.some((u) => u.includes('@aws-sdk')),
      'the S3 store loads the AWS SDK',
    );
    assert.ok(
      urls.some((u) => u.includes('imapflow')),
      'the IMAP store loads imapflow',
    );
    // The gateway imports ioredis only once a store asks for Redis; the tests' helper does at once.
    assert.ok(
      loadedBy('test/helpers/redis-server.js').some((u) => u.includes('ioredis')),
      'the hook sees ioredis',
    );
  });

  it('the POP3 core loads neither the AWS SDK nor imapflow, nor the adapter registry', () => {
    const urls = loadedBy('src/pop3/server.js', 'src/pop3/connection.js', 'src/pop3/commands/index.js', 'src/pop3/login.js');
    assert.ok(urls.length > 10, `the hook recorded the core's modules (${urls.length})`);
    assert.deepEqual(heavyIn(urls), []);
    const adapterModules = urls.filter((u) => u.includes('/dist/adapters/'));
    const outside = adapterModules.filter((u) => !/\/dist\/adapters\/(contract(\.js|\/)|shared\/)/.test(u));
    assert.deepEqual(outside, [], 'the core reaches adapters only through the contract and adapters/shared');
  });

  it('the whole gateway (CLI, config loader, registry) loads no client library until a tenant needs one', () => {
    const urls = loadedBy('src/main.js', 'src/config/loader.js', 'src/route-cli.js');
    assert.ok(
      urls.some((u) => u.endsWith('/dist/adapters/index.js')),
      'the registry is loaded',
    );
    assert.deepEqual(heavyIn(urls), []);
  });

  it("a gateway without identity.web loads no fastify; the consent pages' listener does", () => {
    const gateway = loadedBy('src/main.js', 'src/config/loader.js', 'src/web/resources.js', 'src/web/config.js');
    assert.deepEqual(
      gateway.filter((u) => /\/node_modules\/(fastify|@fastify)\//.test(u)),
      [],
    );
    const pages = loadedBy('src/web/listener.js');
    assert.ok(pages.some((u) => u.includes('/node_modules/fastify/')) && pages.some((u) => u.includes('/node_modules/@fastify/secure-session/')));
  });
});

/** Every .ts file under a folder of the repository. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative module specifiers of static imports, re-exports and dynamic imports, resolved to repository paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1] as string);
  return specifiers.map((s) =>
    relative(ROOT, resolve(dirname(file), s))
      .split(sep)
      .join('/'),
  );
}

describe('import specifiers in the sources', () => {
  const adapters = join(ROOT, 'adapters');

  it('no file under adapters/ imports from src/', () => {
    const offending = sources(adapters).flatMap((f) =>
      relativeImports(f)
        .filter((p) => p.startsWith('src/'))
        .map((p) => `${relative(ROOT, f)} -> ${p}`),
    );
    assert.deepEqual(offending, []);
  });

  it('an adapter imports only the contract, adapters/shared and its own folder; shared and the contract stay below it', () => {
    const offending: string[] = [];
    for (const file of sources(adapters)) {
      const from = relative(adapters, file).split(sep).join('/');
      if (from === 'index.ts') continue; // the registry lists every adapter
      const top = from.includes('/') ? (from.split('/')[0] as string) : from.replace(/\.ts$/, '');
      const allowed =
        top === 'contract'
          ? ['adapters/contract']
          : top === 'shared'
            ? ['adapters/contract', 'adapters/shared/']
            : ['adapters/contract', 'adapters/shared/', `adapters/${top}/`];
      for (const target of relativeImports(file)) {
        if (!allowed.some((a) => target.startsWith(a))) offending.push(`adapters/${from} -> ${target}`);
      }
    }
    assert.deepEqual(offending, []);
  });

  it("fastify is named only by the consent pages' listener and their type module (src/web/listener.ts, src/web/fastify.ts)", () => {
    const offending = sources(join(ROOT, 'src')).flatMap((f) => {
      const where = relative(ROOT, f).split(sep).join('/');
      return /from 'fastify'/.test(readFileSync(f, 'utf8')) && !['src/web/listener.ts', 'src/web/fastify.ts'].includes(where) ? [where] : [];
    });
    assert.deepEqual(offending, []);
  });

  it('src/pop3 imports adapters only through the contract and adapters/shared (never the registry)', () => {
    const offending = sources(join(ROOT, 'src', 'pop3')).flatMap((f) =>
      relativeImports(f)
        .filter((p) => p.startsWith('adapters/') && !/^adapters\/(contract(\.js|\/)|shared\/)/.test(p))
        .map((p) => `${relative(ROOT, f)} -> ${p}`),
    );
    assert.deepEqual(offending, []);
  });
});
