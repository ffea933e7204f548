import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopFilter } from '../../adapters/shared/top-filter.js';

function top(input: string, lines: number, cuts: readonly number[] = []): { out: string; done: boolean } {
  const buf = Buffer.from(input, 'latin1');
  const f = new TopFilter(lines);
  const points = [0, ...cuts, buf.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < points.length && !f.done; i++) out.push(f.push(buf.subarray(points[i], points[i + 1])));
  return { out: Buffer.concat(out).toString('latin1'), done: f.done };
}

const msg = 'A: 1\nB: 2\n\nline1\nline2\nline3\n';

describe('TopFilter', () => {
  it('returns the header and the blank line for 0 lines, at every split point', () => {
    for (let cut = 0; cut <= msg.length; cut++) {
      const r = top(msg, 0, [cut]);
      assert.equal(r.out, 'A: 1\nB: 2\n\n', `cut at ${cut}`);
      assert.equal(r.done, true);
    }
  });

  it('returns N body lines, at every split point, with CRLF too', () => {
    const crlf = msg.replaceAll('\n', '\r\n');
    for (let cut = 0; cut <= crlf.length; cut++) {
      assert.equal(top(crlf, 2, [cut]).out, 'A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\n', `cut at ${cut}`);
    }
  });

  it('returns the whole message when N is larger than the body', () => {
    const r = top(msg, 99_999_999);
    assert.equal(r.out, msg);
    assert.equal(r.done, false);
  });

  it('returns everything for a message with no body separator', () => {
    assert.equal(top('A: 1\nB: 2\n', 0).out, 'A: 1\nB: 2\n');
  });

  it('does not mistake a CR at a chunk end for an empty line', () => {
    const input = 'A: 1\r\nB: 2\r\n\r\nbody\r\n';
    for (let cut = 0; cut <= input.length; cut++) assert.equal(top(input, 0, [cut]).out, 'A: 1\r\nB: 2\r\n\r\n', `cut ${cut}`);
  });
});
