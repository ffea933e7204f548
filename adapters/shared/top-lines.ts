/**
 * Whether the start of a message holds its header, the blank line and `lines` body lines (what
 * TOP sends), so an adapter reading by ranges knows when to stop asking for more. Same rules
 * as the core's top filter: a line is empty when it holds nothing but an optional CR.
 */
const LF = 0x0a;
const CR = 0x0d;

/** Octets of `head` that TOP needs, or undefined when `head` ends before that. */
export function topLength(head: Buffer, lines: number): number | undefined {
  let pos = 0;
  for (;;) {
    const lf = head.indexOf(LF, pos);
    if (lf < 0) return undefined;
    const empty = lf === pos || (lf === pos + 1 && head[pos] === CR);
    pos = lf + 1;
    if (empty) break;
  }
  for (let left = lines; left > 0; left--) {
    const lf = head.indexOf(LF, pos);
    if (lf < 0) return undefined;
    pos = lf + 1;
  }
  return pos;
}
