import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader, type ReadResult } from '../../src/pop3/line-reader.js';

function drain(reader: LineReader, limit: number): string[] {
  const out: string[] = [];
  for (let r: ReadResult | null; (r = reader.next(limit)) !== null;) out.push(r.kind === 'line' ? r.line.toString('latin1') : '<too-long>');
  return out;
}

describe('LineReader', () => {
  it('splits CRLF and bare LF lines, fed at every possible split point', () => {
    const input = Buffer.from('USER a\r\nPASS b c\nSTAT\r\n\r\nNOOP\r\n');
    for (let cut = 0; cut <= input.length; cut++) {
      const reader = new LineReader();
      const got: string[] = [];
      reader.push(input.subarray(0, cut));
      got.push(...drain(reader, 255));
      reader.push(input.subarray(cut));
      got.push(...drain(reader, 255));
      assert.deepEqual(got, ['USER a', 'PASS b c', 'STAT', '', 'NOOP'], `cut at ${cut}`);
    }
  });

  it('accepts a line of exactly the limit (CRLF or LF included) and rejects one octet more', () => {
    const ok = new LineReader();
    ok.push(Buffer.from('a'.repeat(253) + '\r\n' + 'c'.repeat(254) + '\n'));
    assert.deepEqual(drain(ok, 255), ['a'.repeat(253), 'c'.repeat(254)]);
    const over = new LineReader();
    over.push(Buffer.from('b'.repeat(254) + '\r\n'));
    assert.deepEqual(drain(over, 255), ['<too-long>']);
  });

  it('reports a line without line end as too long as soon as it reaches the limit, holding no more', () => {
    const reader = new LineReader();
    reader.push(Buffer.alloc(254, 0x41));
    assert.equal(reader.next(255), null, '254 octets and a bare LF make 255');
    reader.push(Buffer.from([0x41]));
    assert.deepEqual(reader.next(255), { kind: 'too-long' });
    assert.equal(reader.pending, 0);
  });

  it('a CR at the limit without its LF is already too long (CRLF would make limit + 1)', () => {
    const reader = new LineReader();
    reader.push(Buffer.from('a'.repeat(254) + '\r'));
    assert.deepEqual(reader.next(255), { kind: 'too-long' });
  });

  it('clear() drops everything buffered (STLS injection)', () => {
    const reader = new LineReader();
    reader.push(Buffer.from('CAPA\r\nQUIT\r\n'));
    reader.clear();
    assert.equal(reader.next(255), null);
    assert.equal(reader.pending, 0);
  });
});
