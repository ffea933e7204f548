/** `popgate route <login>` as an operator runs it: no backend is contacted (the IMAP host does not exist). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli-process.js';
import { cleanup, tempDir } from '../helpers/client-run.js';

describe('popgate route', () => {
  let dir: string;
  let cfg: string;
  before(() => {
    dir = tempDir('popgate-route-');
    cfg = join(dir, 'popgate.yaml');
    writeFileSync(
      cfg,
      [
        'listeners: [{ port: 1110 }]',
        'defaultTenant: home',
        'tenants:',
        "  home: { adapter: maildir, path: '/var/mail/{user}', users: users.yaml }",
        '  corp:',
        '    adapter: imap',
        '    host: imap.invalid',
        "    domains: [corp.example, '*.corp.example']",
        "    separators: ['@', '+']",
        "    userName: '{local}@{domain}'",
        '    recent: { enabled: true, days: 14 }',
        '',
      ].join('\n'),
    );
  });
  after(() => cleanup(dir));

  it('prints tenant, how it matched, adapter, backend user and backend for john+corp.example', async () => {
    const r = await cli(['route', '-c', cfg, 'recent:john+Sales.Corp.Example']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tenant: +corp$/m);
    assert.match(r.stdout, /^matched by: +domain \*\.corp\.example \(separator \+\)$/m);
    assert.match(r.stdout, /^backend user: +john@sales\.corp\.example$/m);
    assert.match(r.stdout, /^backend: +imap imap\.invalid:993 \(tls implicit\) folder INBOX$/m);
    assert.match(r.stdout, /^recent mode: +yes: the last 14 days$/m);
  });

  it('--json, and a default-tenant route', async () => {
    const r = await cli(['route', '-c', cfg, '--json', 'mary']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.tenant, 'home');
    assert.equal(j.via, 'default');
    assert.equal(j.user, 'mary');
  });

  it('a name with no route exits 1 with the reason', async () => {
    const r = await cli(['route', '-c', cfg, 'a@b@corp.example']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'no route: more than one @\n');
  });
});
