/**
 * Property tests of DotStuffer at every chunk boundary, against a reference encoder written here
 * (one pass over the whole message, no chunks): bare LF -> CRLF, a leading '.' doubled on every
 * line, a CRLF added before the terminator when the message does not end in a line end,
 * messageOctets = the CRLF message size, NUL -> 0x80 with the Outlook workaround, and the
 * caller's chunks never modified.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CrlfSizeCounter } from '../../adapters/shared/crlf-size.js';
import { DotStuffer } from '../../src/pop3/dot-stuffer.js';
import { chunked, cuts, messageBytes, propertyParams } from '../helpers/byte-arbitraries.js';
import { unstuff } from '../helpers/pop3-client.js';

/** The message with every LF not preceded by CR turned into CRLF. */
function toCrlfReference(msg: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < msg.length; i++) {
    const b = msg[i] as number;
    if (b === 0x0a && (i === 0 || msg[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(b);
  }
  return Buffer.from(out);
}

/** What the client receives for a RETR body: stuffed lines, framing CRLF if needed, ".\r\n". */
function wireReference(msg: Buffer, replaceNul: boolean): { wire: Buffer; octets: number } {
  const crlf = toCrlfReference(msg);
  const out: number[] = [];
  let atLineStart = true;
  for (const b of crlf) {
    if (atLineStart && b === 0x2e) out.push(0x2e);
    out.push(replaceNul && b === 0 ? 0x80 : b);
    atLineStart = b === 0x0a;
  }
  if (!atLineStart) out.push(0x0d, 0x0a);
  out.push(0x2e, 0x0d, 0x0a);
  return { wire: Buffer.from(out), octets: crlf.length };
}

function encode(chunks: readonly Buffer[], replaceNul: boolean): { wire: Buffer; octets: number } {
  const s = new DotStuffer({ replaceNul });
  const out: Buffer[] = [];
  for (const c of chunks) s.push(c, out);
  out.push(s.finish());
  return { wire: Buffer.concat(out), octets: s.messageOctets };
}

describe('DotStuffer properties (reference encoder, arbitrary chunkings)', () => {
  it('the wire bytes and messageOctets equal the reference, whatever the chunking, with and without the NUL workaround', () => {
    fc.assert(
      fc.property(messageBytes(), cuts, fc.boolean(), (msg, points, replaceNul) => {
        const chunks = chunked(msg, points);
        const copies = chunks.map((c) => Buffer.from(c));
        const got = encode(chunks, replaceNul);
        const want = wireReference(msg, replaceNul);
        assert.deepEqual(got.wire.toString('latin1'), want.wire.toString('latin1'));
        assert.equal(got.octets, want.octets);
        chunks.forEach((c, i) => assert.ok(c.equals(copies[i] as Buffer), `chunk ${i} was modified`));
      }),
      propertyParams(2000),
    );
  });

  it("round trip: a client that un-stuffs gets the CRLF message back, and the adapters' CRLF size counter agrees", () => {
    fc.assert(
      fc.property(messageBytes(), cuts, (msg, points) => {
        const chunks = chunked(msg, points);
        const { wire, octets } = encode(chunks, false);
        const crlf = toCrlfReference(msg);
        assert.ok(wire.subarray(-3).equals(Buffer.from('.\r\n')));
        const body = wire.subarray(0, -3);
        // The terminator is the only line that is a lone dot.
        assert.equal(body.toString('latin1').split('\r\n').slice(0, -1).includes('.'), false, 'a lone "." line inside the body');
        const back = unstuff(body);
        const framed = crlf.length > 0 && crlf[crlf.length - 1] !== 0x0a ? Buffer.concat([crlf, Buffer.from('\r\n')]) : crlf;
        assert.ok(back.equals(framed), 'un-stuffed body equals the CRLF message (plus the framing CRLF)');
        const counter = new CrlfSizeCounter();
        for (const c of chunks) counter.push(c);
        assert.equal(counter.octets, octets);
      }),
      propertyParams(1000),
    );
  });
});
