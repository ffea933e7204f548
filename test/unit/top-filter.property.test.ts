/**
 * Property tests of TopFilter at every chunk boundary, against a reference written here: the
 * header ends at the first empty line (nothing, or a lone CR, before its LF); TOP n passes the
 * header, that line and the next n LF-ended lines, then is done; a message with fewer lines (or
 * no empty line) passes whole and never reports done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TopFilter } from '../../adapters/shared/top-filter.js';
import { chunked, cuts, messageBytes, propertyParams } from '../helpers/byte-arbitraries.js';

function topReference(msg: Buffer, n: number): { out: Buffer; done: boolean } {
  let pos = 0;
  for (;;) {
    const lf = msg.indexOf(0x0a, pos);
    if (lf < 0) return { out: msg, done: false };
    const content = msg.subarray(pos, lf);
    pos = lf + 1;
    if (content.length === 0 || (content.length === 1 && content[0] === 0x0d)) break;
  }
  for (let left = n; left > 0; left--) {
    const lf = msg.indexOf(0x0a, pos);
    if (lf < 0) return { out: msg, done: false };
    pos = lf + 1;
  }
  return { out: msg.subarray(0, pos), done: true };
}

function runFilter(chunks: readonly Buffer[], n: number): { out: Buffer; done: boolean } {
  const f = new TopFilter(n);
  const out: Buffer[] = [];
  for (const c of chunks) {
    if (f.done) {
      assert.equal(f.push(c).length, 0, 'nothing passes once done');
      continue;
    }
    out.push(f.push(c));
  }
  return { out: Buffer.concat(out), done: f.done };
}

const lines = fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 8 }), fc.constant(99_999_999));

describe('TopFilter properties (reference, arbitrary chunkings)', () => {
  it('passes exactly the header, the empty line and n body lines, whatever the chunking', () => {
    fc.assert(
      fc.property(messageBytes(), lines, cuts, (msg, n, points) => {
        const want = topReference(msg, n);
        const got = runFilter(chunked(msg, points), n);
        assert.equal(got.out.toString('latin1'), want.out.toString('latin1'));
        assert.equal(got.done, want.done);
      }),
      propertyParams(2000),
    );
  });

  it('header-shaped messages (LF or CRLF, an empty line, body lines): n = 0, 1, many', () => {
    const headerLine = fc.stringMatching(/^[A-Za-z-]{1,8}: [\x20-\x7e\x80-\xff]{0,20}$/);
    // eslint-disable-next-line no-control-regex -- body lines may hold any octet but LF
    const bodyLine = fc.oneof(fc.stringMatching(/^[\x00-\x09\x0b-\xff]{0,30}$/), fc.constantFrom('.', '..', '', '\r', '\0'));
    const message = fc
      .record({
        header: fc.array(headerLine, { maxLength: 6 }),
        body: fc.array(bodyLine, { maxLength: 10 }),
        eol: fc.constantFrom('\n', '\r\n'),
        finalEol: fc.boolean(),
      })
      .map(({ header, body, eol, finalEol }) => {
        const text = [...header, '', ...body].join(eol) + (finalEol ? eol : '');
        return Buffer.from(text, 'latin1');
      });
    fc.assert(
      fc.property(message, lines, cuts, (msg, n, points) => {
        const want = topReference(msg, n);
        const got = runFilter(chunked(msg, points), n);
        assert.equal(got.out.toString('latin1'), want.out.toString('latin1'));
        assert.equal(got.done, want.done);
      }),
      propertyParams(1000),
    );
  });
});
