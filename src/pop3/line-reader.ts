/**
 * Bounded line splitter for client input. It never holds more than the caller's limit of one
 * line: as soon as a line is longer (whether or not its line end has arrived) it says so, and
 * the connection closes, as Dovecot does ("Input buffer full"). Waiting for the line end would
 * let a client that never sends one hold the session.
 * Accepts CRLF and bare LF line ends (some devices send LF only).
 */

export type ReadResult = { readonly kind: 'line'; readonly line: Buffer } | { readonly kind: 'too-long' };

export class LineReader {
  private buf: Buffer = Buffer.alloc(0);

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

  /** The first octets of the line being received (to pick its limit by its command name). */
  head(octets: number): Buffer {
    return this.buf.subarray(0, octets);
  }

  /** Drops everything buffered (used after STLS: nothing sent in clear may run under TLS). */
  clear(): void {
    this.buf = Buffer.alloc(0);
  }

  /**
   * The next complete line without its line end, `too-long` once the line being received has
   * passed the limit, or null if no line is complete yet.
   * @param limit maximum octets of a line including its line end (CRLF, or a bare LF)
   */
  next(limit: number): ReadResult | null {
    const lf = this.buf.indexOf(0x0a);
    if (lf < 0) {
      // Even a CR here plus the LF still to come makes it limit + 1 octets or more.
      if (this.buf.length >= limit) return this.tooLong();
      return null;
    }
    if (lf + 1 > limit) return this.tooLong();
    const raw = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(lf + 1);
    const line = raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    // Copy so the caller does not pin the (possibly large) receive buffer.
    return { kind: 'line', line: Buffer.from(line) };
  }

  private tooLong(): ReadResult {
    this.buf = Buffer.alloc(0);
    return { kind: 'too-long' };
  }
}
