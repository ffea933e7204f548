import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrlfSizeCounter } from '../../adapters/shared/crlf-size.js';
import { DotStuffer } from '../../src/pop3/dot-stuffer.js';

function encode(parts: readonly Buffer[], replaceNul = false): { wire: string; octets: number } {
  const s = new DotStuffer({ replaceNul });
  const out = parts.map((p) => s.push(p));
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
    assert.equal(s.push(chunk), chunk);
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
