import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loggableName } from '../../adapters/shared/log-text.js';

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

describe('loggableName', () => {
  it('keeps ordinary names as they are', () => {
    for (const name of ['alice', 'john+tag@example.com', 'bücher.de/jörg', 'example.com/john']) assert.equal(loggableName(name), name);
  });

  it('escapes every control, format and separator character, and the backslash', () => {
    assert.equal(
      loggableName('a\u0085b\u009bc\u2028d\u2029e\u202ef\u007fg\u0000h\\i'),
      'a\\u{85}b\\u{9b}c\\u{2028}d\\u{2029}e\\u{202e}f\\u{7f}g\\u{0}h\\u{5c}i',
    );
    assert.equal(loggableName('\ud800x'), '\\u{d800}x');
  });

  it('never returns an unsafe character or more than 64 characters of the name (any input)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => {
        const out = loggableName(name);
        assert.ok(!UNSAFE.test(out), JSON.stringify(out));
        const shown = out.replace(/…\[\d+ octets\]$/, '').replace(/\\u\{[0-9a-f]+\}/g, '?');
        assert.ok(Array.from(shown).length <= 64);
        if (Array.from(name).length <= 64) assert.ok(!out.endsWith(' octets]') || name.endsWith(' octets]'));
      }),
    );
  });
});
