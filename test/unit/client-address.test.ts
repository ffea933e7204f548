import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainAddress } from '../../src/pop3/client-address.js';

describe('client addresses', () => {
  it('an IPv4 client of a dual-stack listener is its IPv4 address; every other address stays as it is', () => {
    assert.equal(plainAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(plainAddress('::FFFF:192.0.2.1'), '192.0.2.1');
    assert.equal(plainAddress('192.0.2.1'), '192.0.2.1');
    assert.equal(plainAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(plainAddress('::ffff:c000:201'), '::ffff:c000:201', 'only the dotted form is unwrapped');
  });
});
