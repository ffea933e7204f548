import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrlfSizeCounter } from '../../adapters/shared/crlf-size.js';
import { DotStuffer } from '../../src/pop3/dot-stuffer.js';

function encode(parts: readonly Buffer[], replaceNul = false): { wire: string; octets: number } {
  const s = new DotStuffer({ replaceNul });
  const out: Buffer[] = [];
  for (const p of parts) s.push(p, out);
  out.push(s.finish());
  return { wire: Buffer.concat(out).toString('latin1'), octets: s.messageOctets };
}

function crlfSize(parts: readonly Buffer[]): number {
  const c = new CrlfSizeCounter();
  for (const p of parts) c.push(p);
  return c.octets;
}

const cases: { name: string; input: string; wire: string }[] = [
  { name: 'LF lines become CRLF', input: 'a\nb\n', wire: 'a\r\nb\r\n.\r\n' },
  { name: 'CRLF lines pass unchanged', input: 'a\r\nb\r\n', wire: 'a\r\nb\r\n.\r\n' },
  { name: 'leading dots are doubled', input: '.a\n..b\n.\nc.d\n', wire: '..a\r\n...b\r\n..\r\nc.d\r\n.\r\n' },
  { name: 'a dot at the very start', input: '.', wire: '..\r\n.\r\n' },
  { name: 'missing final line end is added', input: 'a\nlast', wire: 'a\r\nlast\r\n.\r\n' },
  { name: 'empty message', input: '', wire: '.\r\n' },
  { name: 'mixed endings and blank lines', input: 'h: v\r\n\nbody\r\n\r\n.x\n', wire: 'h: v\r\n\r\nbody\r\n\r\n..x\r\n.\r\n' },
  { name: 'bare CR is left alone', input: 'a\rb\n', wire: 'a\rb\r\n.\r\n' },
  { name: 'only line ends', input: '\n\n', wire: '\r\n\r\n.\r\n' },
];

describe('DotStuffer', () => {
  for (const c of cases) {
    it(`${c.name}, split at every point, in one and two chunks`, () => {
      const input = Buffer.from(c.input, 'latin1');
      for (let cut = 0; cut <= input.length; cut++) {
        const parts = [input.subarray(0, cut), input.subarray(cut)];
        const { wire, octets } = encode(parts);
        assert.equal(wire, c.wire, `cut at ${cut}`);
        const unstuffed = wire.slice(0, -3).replace(/(^|\r\n)\./g, '$1');
        const addedCrlf = c.input !== '' && !c.input.endsWith('\n') ? 2 : 0;
        assert.equal(octets, Buffer.byteLength(unstuffed, 'latin1') - addedCrlf, `octets, cut at ${cut}`);
        assert.equal(crlfSize(parts), octets, `CrlfSizeCounter agrees, cut at ${cut}`);
      }
    });
  }

  it('byte-at-a-time input gives the same output', () => {
    const input = Buffer.from('From: x\n\n.dot\r\n..\nend', 'latin1');
    const parts = [...input].map((b) => Buffer.from([b]));
    assert.equal(encode(parts).wire, encode([input]).wire);
    assert.equal(crlfSize(parts), encode([input]).octets);
  });

  it('passes clean CRLF chunks through without copying', () => {
    const s = new DotStuffer();
    const chunk = Buffer.from('abc\r\ndef\r\n');
    const out: Buffer[] = [];
    s.push(chunk, out);
    assert.deepEqual(out, [chunk]);
    assert.equal(out[0], chunk);
  });

  it('stuffs CRLF text with views of the chunk, not a copy', () => {
    const s = new DotStuffer();
    const chunk = Buffer.from('a\r\n.b\r\nc\r\n');
    const out: Buffer[] = [];
    s.push(chunk, out);
    assert.equal(Buffer.concat(out).toString('latin1'), 'a\r\n..b\r\nc\r\n');
    const views = out.filter((p) => p.length > 1);
    assert.ok(views.length === 2 && views.every((p) => p.buffer === chunk.buffer), 'the text pieces share the chunk memory');
  });

  it('a long message with dots and mixed line ends, in random chunks, matches a line-by-line reference', () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const alphabet = ['.', '.', 'a', 'b', ' ', '\r', '\n', '\r\n', '\n', '\0'];
    for (let round = 0; round < 50; round++) {
      let text = '';
      for (let i = 0; i < 400; i++) text += alphabet[rand(alphabet.length)];
      const input = Buffer.from(text, 'latin1');
      const lines = text.split('\n');
      const tail = lines.pop() as string;
      let expected = lines.map((l) => (l.startsWith('.') ? '.' : '') + (l.endsWith('\r') ? l : l + '\r') + '\n').join('');
      if (tail !== '') expected += (tail.startsWith('.') ? '.' : '') + tail + '\r\n';
      expected += '.\r\n';
      const parts: Buffer[] = [];
      for (let at = 0; at < input.length;) {
        const n = 1 + rand(60);
        parts.push(input.subarray(at, at + n));
        at += n;
      }
      const { wire, octets } = encode(parts);
      assert.equal(wire, expected, `round ${round}`);
      assert.equal(octets, crlfSize([input]), `octets, round ${round}`);
    }
  });

  it('turns NUL into 0x80 only with the Outlook workaround, keeping the size', () => {
    const input = Buffer.from([0x61, 0x00, 0x62, 0x0a]);
    assert.equal(encode([input]).wire, 'a\0b\r\n.\r\n');
    const fixed = encode([input], true);
    assert.equal(fixed.wire, 'a\x80b\r\n.\r\n');
    assert.equal(fixed.octets, 5);
    assert.equal(input[1], 0, 'the source buffer is not modified');
  });

  it('keeps 8-bit bytes exact', () => {
    const input = Buffer.from('Grüße 日本語\n', 'utf8');
    assert.deepEqual(Buffer.from(encode([input]).wire, 'latin1'), Buffer.concat([Buffer.from('Grüße 日本語\r\n', 'utf8'), Buffer.from('.\r\n')]));
  });
});
