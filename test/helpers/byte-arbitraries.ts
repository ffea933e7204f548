/**
 * fast-check arbitraries for the property tests of the byte-level parts (line reader,
 * dot-stuffer, TOP filter): messages made of arbitrary octets with the troublesome ones (CR, LF,
 * '.', NUL, 8-bit) over-represented, and arbitrary ways to cut them into chunks.
 */
import fc from 'fast-check';

/** Pieces a message is built from; single random octets keep everything reachable. */
const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...['\r', '\n', '\r\n', '.', '\0', '\n.', '\r\n.', '\r\n\r\n', '\n\n', '..', '\r\r\n', 'ab', 'Subject: x', '\xe9\xff', ' '].map((s) =>
        Uint8Array.from(Buffer.from(s, 'latin1')),
      ),
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 2, maxLength: 40 }) },
);

/** A message: arbitrary octets, CR, LF, '.', NUL much more often than chance. */
export function messageBytes(maxPieces = 60): fc.Arbitrary<Buffer> {
  return fc.array(piece, { maxLength: maxPieces }).map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** Cut points (as fractions, resolved against the length) for any buffer: 0..12 cuts, duplicates allowed (empty chunks). */
export const cuts: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  // One octet at a time.
  { weight: 1, arbitrary: fc.constant([-1]) },
);

/** The chunks of `data` for the cut points drawn by {@link cuts}. */
export function chunked(data: Buffer, points: readonly number[]): Buffer[] {
  if (points.length === 1 && points[0] === -1) return [...data].map((b) => Buffer.from([b]));
  const at = points.map((p) => p % (data.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of at) {
    out.push(data.subarray(from, p));
    from = p;
  }
  out.push(data.subarray(from));
  return out;
}

/** Runs and seed for every property test: fixed seed unless POPGATE_PROPERTY_SEED is set. */
export function propertyParams(numRuns = 500): fc.Parameters<unknown> {
  const seed = process.env.POPGATE_PROPERTY_SEED !== undefined ? Number(process.env.POPGATE_PROPERTY_SEED) : 20261201;
  const runs = process.env.POPGATE_PROPERTY_RUNS !== undefined ? Number(process.env.POPGATE_PROPERTY_RUNS) : numRuns;
  return { seed, numRuns: runs };
}
