import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader, type ReadResult } from '../../src/pop3/line-reader.js';

function drain(reader: LineReader, limit: number): string[] {
  const out: string[] = [];
  for (let r: ReadResult | null; (r = reader.next(limit)) !== null; ) out.push(r.kind === 'line' ? r.line.toString('latin1') : '<too-long>');
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

  it('accepts a line of exactly the limit (CRLF included) and rejects one octet more', () => {
    const reader = new LineReader();
    reader.push(Buffer.from('a'.repeat(253) + '\r\n' + 'b'.repeat(254) + '\r\n' + 'c'.repeat(254) + '\n'));
    assert.deepEqual(drain(reader, 255), ['a'.repeat(253), '<too-long>', 'c'.repeat(254)]);
  });

  it('reports an over-long line once and keeps its memory bounded while it streams in', () => {
    const reader = new LineReader();
    for (let i = 0; i < 1000; i++) {
      reader.push(Buffer.alloc(1000, 0x41));
      assert.equal(reader.next(255), null);
      assert.ok(reader.pending <= 1000, `pending ${reader.pending}`);
    }
    reader.push(Buffer.from('AAAA\r\nNOOP\r\n'));
    assert.deepEqual(drain(reader, 255), ['<too-long>', 'NOOP']);
  });

  it('clear() drops everything buffered (STLS injection)', () => {
    const reader = new LineReader();
    reader.push(Buffer.from('CAPA\r\nQUIT\r\n'));
    reader.clear();
    assert.equal(reader.next(255), null);
    assert.equal(reader.pending, 0);
  });
});
