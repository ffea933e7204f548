/**
 * The Helm chart, checked without `helm` (Debian does not package it): Chart.yaml's required
 * fields, values.yaml against the chart's own values.schema.json (what `helm lint` and `helm
 * install` validate), every `.Values` path and `include` the templates use, the drain time, and
 * the embedded popgate.yaml through `popgate check`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, stringify } from 'yaml';
import { cli } from '../helpers/cli-process.js';
import { cleanup, run, tempDir } from '../helpers/client-run.js';
import { requireProgram } from '../helpers/programs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHART = join(ROOT, 'deploy/helm/popgate');
const read = (path: string): string => readFileSync(join(CHART, path), 'utf8');
const values = (): Record<string, unknown> => parse(read('values.yaml')) as Record<string, unknown>;
const templates = (): Map<string, string> => new Map(readdirSync(join(CHART, 'templates')).map((f) => [f, read(`templates/${f}`)]));

/** Objects whose keys are the user's (popgate's config, annotations, labels): paths below them are not checked. */
const FREE_FORM = new Set(['config', 'annotations', 'labels', 'files', 'resources', 'nodeSelector', 'affinity']);

describe('deploy/helm/popgate', () => {
  const dirs: string[] = [];
  after(() => cleanup(...dirs));

  it("Chart.yaml is a v2 chart whose appVersion is popgate's version", () => {
    const chart = parse(read('Chart.yaml')) as Record<string, unknown>;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'popgate');
    assert.match(String(chart.version), /^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.appVersion, pkg.version);
  });

  it('values.yaml satisfies values.schema.json, which rejects a wrong value', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(read('values.schema.json')) as object);
    assert.equal(validate(values()), true, JSON.stringify(validate.errors));
    assert.equal(validate({ ...values(), replicaCount: 'two' }), false);
    assert.equal(validate({ ...values(), unknownKey: 1 }), false);
  });

  it('every .Values path the templates read exists in values.yaml, and every include is defined', () => {
    const v = values();
    const helpers = read('templates/_helpers.tpl');
    const defined = new Set([...helpers.matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    let paths = 0;
    for (const [file, text] of templates()) {
      for (const [, path] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        paths++;
        let at: unknown = v;
        for (const key of (path as string).split('.')) {
          assert.ok(at !== null && typeof at === 'object' && key in at, `${file}: .Values.${path} is not in values.yaml`);
          if (FREE_FORM.has(key)) break;
          at = (at as Record<string, unknown>)[key];
        }
      }
      for (const [, name] of text.matchAll(/include "([^"]+)"/g)) assert.ok(defined.has(name), `${file}: include "${name}" is not defined`);
    }
    assert.ok(paths > 20, `only ${paths} .Values references found: the pattern no longer matches the templates`);
  });

  it('drains longer than popgate does, and probes the admin API', () => {
    const v = values() as { terminationGracePeriodSeconds: number; config: { limits?: { shutdownGraceSeconds?: number } } };
    assert.ok(v.terminationGracePeriodSeconds > (v.config.limits?.shutdownGraceSeconds ?? 30));
    const deployment = templates().get('deployment.yaml') as string;
    assert.match(deployment, /livenessProbe:\s+httpGet: \{ path: \/healthz, port: admin \}/);
    assert.match(deployment, /readinessProbe:\s+httpGet: \{ path: \/readyz, port: admin \}/);
    assert.match(deployment, /runAsNonRoot: true/);
  });

  it('the popgate.yaml in values.yaml passes `popgate check` with the files the Secret provides', async () => {
    requireProgram('openssl');
    const dir = tempDir('popgate-helm-');
    dirs.push(dir);
    const secret = join(dir, 'secret');
    mkdirSync(secret, { recursive: true });
    const made = await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(secret, 'tls.key'), '-out', join(secret, 'tls.crt'),
    ]); // prettier-ignore
    assert.equal(made.code, 0, made.stderr);
    writeFileSync(join(secret, 'users.yaml'), 'users: {}\n');
    writeFileSync(join(secret, 'admin-token'), 'helm-test-token\n');
    const config = stringify((values() as { config: unknown }).config).replaceAll('/etc/popgate/secret/', `${secret}/`);
    writeFileSync(join(dir, 'popgate.yaml'), config);
    const checked = await cli(['check', '--config', join(dir, 'popgate.yaml')]);
    assert.equal(checked.code, 0, `popgate check failed:\n${checked.stdout}${checked.stderr}`);
  });
});
