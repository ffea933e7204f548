/**
 * Passes a message's header, the blank line after it and the first N body lines, then says
 * it is done so the caller can stop reading the backend. Works on raw bytes (LF or CRLF).
 */

const LF = 0x0a;
const CR = 0x0d;

export class TopFilter {
  private inBody = false;
  /** The current header line has content so far (so a LF ends a non-empty line). */
  private lineHasContent = false;
  private bodyLinesLeft: number;
  done = false;

  constructor(bodyLines: number) {
    this.bodyLinesLeft = bodyLines;
  }

  /** Returns the part of the chunk to pass on; sets `done` once the limit is reached. */
  push(chunk: Buffer): Buffer {
    if (this.done) return chunk.subarray(0, 0);
    let pos = 0;
    while (!this.inBody) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        if (pos < chunk.length && !(chunk.length - pos === 1 && chunk[pos] === CR)) this.lineHasContent = true;
        return chunk;
      }
      const lineLen = lf - pos - (lf > pos && chunk[lf - 1] === CR ? 1 : 0);
      if (lineLen === 0 && !this.lineHasContent) this.inBody = true;
      this.lineHasContent = false;
      pos = lf + 1;
    }
    if (this.bodyLinesLeft === 0) {
      this.done = true;
      return chunk.subarray(0, pos);
    }
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) return chunk;
      pos = lf + 1;
      if (--this.bodyLinesLeft === 0) {
        this.done = true;
        return chunk.subarray(0, pos);
      }
    }
  }
}
