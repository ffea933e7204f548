import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMaildirName } from '../../adapters/maildir/names.js';
import { uidlFromHandle } from '../../adapters/shared/uidl.js';

describe('Maildir names and UIDLs', () => {
  it('parses base, size fields and time', () => {
    const n = parseMaildirName('1700000000.M1P2.host,S=1234,W=1260:2,RS');
    assert.equal(n.base, '1700000000.M1P2.host,S=1234,W=1260');
    assert.equal(n.stableBase, '1700000000.M1P2.host');
    assert.equal(n.rawSize, 1234);
    assert.equal(n.crlfSize, 1260);
    assert.equal(n.time, 1_700_000_000);
  });

  it('keeps the UIDL when flags change or a size field is added', () => {
    const a = uidlFromHandle(parseMaildirName('1700000000.M1P2.host').stableBase);
    const b = uidlFromHandle(parseMaildirName('1700000000.M1P2.host,W=99:2,S').stableBase);
    assert.equal(a, b);
  });

  it('uses valid names as they are and hashes long or unprintable ones to 44 printable chars', () => {
    assert.equal(uidlFromHandle('1700000000.M1P2.host'), '1700000000.M1P2.host');
    for (const bad of ['x'.repeat(71), 'has space', 'tab\tname', 'ünï', '~tilde']) {
      const u = uidlFromHandle(bad);
      assert.match(u, /^~[A-Za-z0-9_-]{43}$/, bad);
      assert.equal(uidlFromHandle(bad), u, 'stable');
    }
    assert.notEqual(uidlFromHandle('x'.repeat(71)), uidlFromHandle('x'.repeat(72)));
    assert.equal(uidlFromHandle('x'.repeat(70)), 'x'.repeat(70));
  });
});
