/**
 * Bounded line splitter for client input. Never grows past the caller's limit: a line that
 * exceeds it is discarded up to its line end and reported once as too long.
 * Accepts CRLF and bare LF line ends (some devices send LF only).
 */

export type ReadResult =
  | { readonly kind: 'line'; readonly line: Buffer }
  | { readonly kind: 'too-long' };

export class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  /** True while skipping the rest of an over-long line. */
  private discarding = false;

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Octets received but not yet returned as lines. */
  get pending(): number {
    return this.buf.length;
  }

  /** A whole line is already waiting (the client pipelines). */
  get hasLine(): boolean {
    return this.buf.indexOf(0x0a) >= 0;
  }

  /** Drops everything buffered (used after STLS: nothing sent in clear may run under TLS). */
  clear(): void {
    this.buf = Buffer.alloc(0);
    this.discarding = false;
  }

  /**
   * The next complete line without its line end, or null if none is complete yet.
   * @param limit maximum octets of a line including its CRLF
   */
  next(limit: number): ReadResult | null {
    const lf = this.buf.indexOf(0x0a);
    if (lf < 0) {
      if (this.buf.length > limit || this.discarding) {
        // Keep a trailing CR so a CRLF split across packets still ends the discarded line.
        this.buf = Buffer.alloc(0);
        this.discarding = true;
      }
      return null;
    }
    const raw = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(lf + 1);
    if (this.discarding) {
      this.discarding = false;
      return { kind: 'too-long' };
    }
    if (lf + 1 > limit + (raw[raw.length - 1] === 0x0d ? 0 : 1)) return { kind: 'too-long' };
    const line = raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    // Copy so the caller does not pin the (possibly large) receive buffer.
    return { kind: 'line', line: Buffer.from(line) };
  }
}
