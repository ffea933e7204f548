/**
 * Passes a message's header, the blank line after it and the first N body lines, then says
 * it is done so the caller can stop reading the backend. Works on raw bytes (LF or CRLF).
 */

const LF = 0x0a;
const CR = 0x0d;

export class TopFilter {
  private inBody = false;
  /** Octets of the current header line seen in earlier chunks (only 0, 1 or more matters). */
  private lineOctets = 0;
  /** That line's last octet so far was CR (a lone CR before the LF still makes it empty). */
  private lineEndsCR = false;
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
        if (pos < chunk.length) {
          this.lineOctets = Math.min(this.lineOctets + chunk.length - pos, 2);
          this.lineEndsCR = chunk[chunk.length - 1] === CR;
        }
        return chunk;
      }
      const octets = this.lineOctets + lf - pos;
      const lastIsCR = lf > pos ? chunk[lf - 1] === CR : this.lineEndsCR;
      if (octets === 0 || (octets === 1 && lastIsCR)) this.inBody = true;
      this.lineOctets = 0;
      this.lineEndsCR = false;
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
