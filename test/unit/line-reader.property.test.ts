/**
 * Property tests of LineReader at every chunk boundary, against a reference splitter written
 * here. The reader reports an over-long line as soon as the limit is passed, whether or not its
 * line end has come (the connection then closes):
 *  - complete lines safely under the limit come out identical, in order, whatever the chunking;
 *  - the first line safely over the limit is reported as too long, in its place;
 *  - nothing over the limit is ever returned as a line, and the buffer stays bounded.
 * Lines within two octets of the limit (where CRLF/LF accounting may differ) are not generated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineReader, type ReadResult } from '../../src/pop3/line-reader.js';
import { chunked, cuts, propertyParams } from '../helpers/byte-arbitraries.js';

type Ending = 'crlf' | 'lf';

interface GenLine {
  readonly content: Buffer;
  readonly ending: Ending;
}

/** A line's octets without LF; `over` makes it longer than the limit by 1..2*limit octets. */
function lineArb(limit: number): fc.Arbitrary<GenLine> {
  const octet = fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0a) },
    { weight: 1, arbitrary: fc.constantFrom(0x0d, 0x00, 0x2e, 0x20) },
  );
  const short = fc.array(octet, { maxLength: limit - 2 });
  const over = fc.integer({ min: limit + 1, max: 3 * limit }).chain((n) => fc.array(octet, { minLength: n, maxLength: n }));
  return fc
    .record({
      content: fc.oneof({ weight: 4, arbitrary: short }, { weight: 1, arbitrary: over }).map((a) => Buffer.from(a)),
      ending: fc.constantFrom<Ending>('crlf', 'lf'),
    })
    .map((l) =>
      // A LF-ended line whose content ends in CR is a CRLF line: keep the generated meaning exact.
      l.ending === 'lf' && l.content[l.content.length - 1] === 0x0d ? { ...l, content: Buffer.concat([l.content.subarray(0, -1), Buffer.from('x')]) } : l,
    );
}

const input = fc.integer({ min: 4, max: 48 }).chain((limit) =>
  fc.record({
    limit: fc.constant(limit),
    lines: fc.array(lineArb(limit), { maxLength: 12 }),
    // An unfinished last line: short (waits) or at the limit or over it (reported at once, never returned).
    tail: fc.oneof(
      fc.constant(Buffer.alloc(0)),
      fc.uint8Array({ maxLength: limit }).map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x41 : b)))),
      fc.uint8Array({ minLength: limit + 1, maxLength: 3 * limit }).map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x41 : b)))),
    ),
    cuts,
    drainEvery: fc.boolean(),
  }),
);

function wire(lines: readonly GenLine[], tail: Buffer): Buffer {
  return Buffer.concat([...lines.flatMap((l) => [l.content, Buffer.from(l.ending === 'crlf' ? '\r\n' : '\n')]), tail]);
}

describe('LineReader properties (reference splitter, arbitrary chunkings)', () => {
  it('lines under the limit are exact, the first over-limit line is reported in place, nothing over the limit comes out', () => {
    fc.assert(
      fc.property(input, ({ limit, lines, tail, cuts: points, drainEvery }) => {
        const data = wire(lines, tail);
        const reader = new LineReader();
        const got: ReadResult[] = [];
        const drain = (): void => {
          for (let r: ReadResult | null; (r = reader.next(limit)) !== null;) got.push(r);
        };
        const chunks = chunked(data, points);
        for (const chunk of chunks) {
          reader.push(chunk);
          if (drainEvery) drain();
          // Never more than the limit plus what just arrived stays buffered.
          if (drainEvery) assert.ok(reader.pending <= limit + chunk.length + 2, `pending ${reader.pending} > ${limit} + ${chunk.length}`);
        }
        drain();

        const firstOver = lines.findIndex((l) => l.content.length > limit);
        const exact = firstOver < 0 ? lines : lines.slice(0, firstOver);
        const firstTooLong = got.findIndex((r) => r.kind === 'too-long');
        const before = firstTooLong < 0 ? got : got.slice(0, firstTooLong);
        assert.deepEqual(
          before.map((r) => (r.kind === 'line' ? r.line.toString('latin1') : '<too-long>')),
          exact.map((l) => l.content.toString('latin1')),
        );
        if (firstOver >= 0) assert.equal(firstTooLong, firstOver, 'the over-limit line is reported where it stands');
        else if (tail.length < limit) assert.equal(got.length, lines.length, 'nothing but the lines (a short unfinished tail waits)');
        // A tail of `limit` octets cannot end within the limit any more: reported without its line end.
        // (The connection closes there, so what the reader says after it does not matter.)
        else assert.ok(got.length > lines.length && got[lines.length]?.kind === 'too-long', 'an unfinished over-limit tail is reported at once');
        for (const r of got) if (r.kind === 'line') assert.ok(r.line.length <= limit, `a ${r.line.length}-octet line came out (limit ${limit})`);
      }),
      propertyParams(1000),
    );
  });

  it('a line of the same octets gives the same result with CRLF and with LF, cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 48 }).chain((limit) => fc.tuple(fc.constant(limit), lineArb(limit), cuts)),
        ([limit, line, points]) => {
          const results = (['crlf', 'lf'] as const).map((ending) => {
            const reader = new LineReader();
            const got: string[] = [];
            for (const chunk of chunked(
              wire(
                [
                  { ...line, ending },
                  { content: Buffer.from('NOOP'), ending },
                ],
                Buffer.alloc(0),
              ),
              points,
            )) {
              reader.push(chunk);
              for (let r: ReadResult | null; (r = reader.next(limit)) !== null;) got.push(r.kind === 'line' ? r.line.toString('latin1') : '<too-long>');
            }
            return got.slice(0, 1);
          });
          if (line.content[line.content.length - 1] !== 0x0d) assert.deepEqual(results[0], results[1]);
        },
      ),
      propertyParams(500),
    );
  });
});
