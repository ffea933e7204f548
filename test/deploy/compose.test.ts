/**
 * The compose stack and the image, checked with what runs here (no Docker engine does): the
 * Compose Specification's own JSON schema (what `docker compose config` validates against), the
 * files the stack mounts and builds from, popgate's mounted config through `popgate check` with
 * a certificate made by the same command as the stack's `certs` service, Dovecot's config
 * through `doveconf`, and the Dockerfile's promises (non-root, unprivileged ports, health check).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { cli } from '../helpers/cli-process.js';
import { cleanup, run, tempDir } from '../helpers/client-run.js';
import { requireProgram } from '../helpers/programs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const at = (path: string): string => join(ROOT, path);

interface ComposeService {
  build?: { context: string; dockerfile?: string };
  command?: string | string[];
  ports?: string[];
  volumes?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const compose = (): ComposeFile => parse(readFileSync(at('docker-compose.yml'), 'utf8')) as ComposeFile;

function composeValidator(): (doc: unknown) => boolean {
  const schema = JSON.parse(readFileSync(at('test/fixtures/compose-spec/compose-spec.json'), 'utf8')) as Record<string, unknown>;
  // It names its draft as https://json-schema.org/draft-07/schema, an alias Ajv does not know (Ajv's default draft is 07).
  delete schema.$schema;
  // The schema uses its own format names (duration, expose, ports): not checked here, as in compose's own validator.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  return (doc) => {
    const ok = validate(doc);
    if (!ok) validate.errors?.forEach((e) => console.log(`compose schema: ${e.instancePath} ${e.message ?? ''}`));
    return ok;
  };
}

/** Host side of a bind mount (`./x:/y:ro`), or undefined for a named volume. */
function bindSource(volume: string): string | undefined {
  const source = volume.split(':')[0] as string;
  return source.startsWith('./') ? source : undefined;
}

describe('docker-compose.yml', () => {
  const dirs: string[] = [];
  after(() => cleanup(...dirs));

  it('is valid under the Compose Specification schema, which does reject a broken file', () => {
    const valid = composeValidator();
    assert.equal(valid(compose()), true);
    const broken = compose();
    (broken.services.popgate as unknown as Record<string, unknown>).ports = 1110;
    assert.equal(valid(broken), false, 'a port list given as a number must not validate');
  });

  it('mounts and builds only from files that exist', () => {
    for (const [name, service] of Object.entries(compose().services)) {
      for (const volume of service.volumes ?? []) {
        const source = bindSource(volume);
        if (source !== undefined) assert.ok(existsSync(at(source)), `${name} mounts ${source}, which does not exist`);
      }
      if (service.build !== undefined) {
        const dockerfile = join(service.build.context, service.build.dockerfile ?? 'Dockerfile');
        assert.ok(existsSync(at(dockerfile)), `${name} builds from ${dockerfile}, which does not exist`);
      }
    }
  });

  it("publishes the ports popgate's mounted config listens on (POP3, POP3S, and admin when on)", () => {
    const popgate = compose().services.popgate as ComposeService;
    const configMount = (popgate.volumes ?? []).find((v) => v.includes(':/etc/popgate/popgate.yaml'));
    assert.ok(configMount !== undefined, 'popgate mounts its config at /etc/popgate/popgate.yaml');
    const config = parse(readFileSync(at(bindSource(configMount) as string), 'utf8')) as {
      listeners: { port: number }[];
      admin?: { listen: { port: number } };
    };
    const published = (popgate.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    for (const port of config.listeners.map((l) => l.port)) assert.ok(published.includes(port), `listener port ${port} is not published`);
    // The admin port is published for when the admin API is on (deploy/compose/popgate/popgate.yaml says when).
    if (config.admin !== undefined) assert.ok(published.includes(config.admin.listen.port), 'the admin port is not published');
  });

  it("the mounted config passes `popgate check` with a certificate from the certs service's own command", async () => {
    requireProgram('openssl');
    const dir = tempDir('popgate-compose-');
    dirs.push(dir);
    const etc = join(dir, 'etc-popgate');
    mkdirSync(join(etc, 'tls'), { recursive: true });
    for (const f of ['users.yaml', 'admin-token']) copyFileSync(at(`deploy/compose/popgate/${f}`), join(etc, f));
    // The stack mounts these files under /etc/popgate: the same layout under a temporary folder.
    writeFileSync(join(etc, 'popgate.yaml'), readFileSync(at('deploy/compose/popgate/popgate.yaml'), 'utf8').replaceAll('/etc/popgate/', `${etc}/`));
    const certs = compose().services.certs as ComposeService;
    const script = (certs.command as string[])[0] as string;
    const made = await run('sh', ['-c', script.replaceAll('/tls/', `${etc}/tls/`)], { timeoutMs: 60_000 });
    assert.equal(made.code, 0, made.stderr);
    assert.ok(existsSync(join(etc, 'tls', 'cert.pem')) && existsSync(join(etc, 'tls', 'key.pem')));
    const checked = await cli(['check', '--config', join(etc, 'popgate.yaml')]);
    assert.equal(checked.code, 0, `popgate check failed:\n${checked.stdout}${checked.stderr}`);
  });

  it("Dovecot's config is accepted by doveconf", async () => {
    requireProgram('doveconf');
    const res = await run('doveconf', ['-c', at('deploy/compose/dovecot/dovecot.conf'), '-n']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /mail_location = maildir:\/srv\/mail\/%u/);
    assert.doesNotMatch(res.stderr, /Warning|Error/i);
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(at('deploy/Dockerfile'), 'utf8');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));

  it('runs on a current Node LTS, as a non-root user, with popgate on the PATH', () => {
    const base = /^FROM node:(\d+)-/m.exec(finalStage);
    assert.ok(base !== null, 'the final stage is a node image');
    assert.ok(Number(base[1]) >= 22 && Number(base[1]) % 2 === 0, `node:${base[1]} is not a supported LTS line`);
    assert.match(finalStage, /^USER (?!root|0\b)\S+/m);
    assert.match(finalStage, /ln -s \/app\/dist\/src\/cli\.js \/usr\/local\/bin\/popgate/);
    assert.match(finalStage, /^ENTRYPOINT \["popgate"\]/m);
  });

  it('exposes only unprivileged ports and checks health on /healthz', () => {
    const exposed = (/^EXPOSE (.+)$/m.exec(finalStage)?.[1] ?? '').split(/\s+/).map(Number);
    assert.ok(exposed.length > 0 && exposed.every((p) => p >= 1024), `EXPOSE ${exposed.join(' ')}`);
    assert.match(finalStage, /^HEALTHCHECK .*\n?.*\/healthz/m);
  });

  it('.dockerignore keeps local builds and dependencies out of the context', () => {
    const ignored = readFileSync(at('.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), `.dockerignore lacks ${entry}`);
  });
});
