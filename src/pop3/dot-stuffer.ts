/**
 * Turns raw message bytes into a POP3 multi-line body in one streaming pass:
 * bare LF -> CRLF, a leading "." doubled, a missing final CRLF added, then ".\r\n".
 * Counts the message octets as the client receives them before un-stuffing (CRLF line ends,
 * without the added final CRLF), which is the size STAT/LIST/RETR must announce.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

export interface DotStufferOptions {
  /** Outlook workaround: NUL octets are sent as 0x80 (same length, so sizes stay exact). */
  readonly replaceNul?: boolean;
}

export class DotStuffer {
  /** Octets of the message with CRLF line ends (no stuffing dots, no added terminator). */
  messageOctets = 0;
  private atLineStart = true;
  private lastWasCR = false;
  private readonly replaceNul: boolean;

  constructor(options: DotStufferOptions = {}) {
    this.replaceNul = options.replaceNul ?? false;
  }

  /** Encodes one chunk. Returns the chunk itself when nothing needs to change. */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    // Positions where an octet must be inserted before chunk[pos]: CR before a bare LF,
    // or a "." before a line-leading ".".
    const inserts: number[] = [];
    const inserted: number[] = [];
    let lineStart = 0;
    let atStart = this.atLineStart;
    let prevCR = this.lastWasCR;
    for (;;) {
      if (atStart && lineStart < chunk.length && chunk[lineStart] === DOT) {
        inserts.push(lineStart);
        inserted.push(DOT);
      }
      const lf = chunk.indexOf(LF, lineStart);
      if (lf < 0) break;
      const crBefore = lf > lineStart ? chunk[lf - 1] === CR : prevCR;
      if (!crBefore) {
        inserts.push(lf);
        inserted.push(CR);
      }
      lineStart = lf + 1;
      atStart = true;
      prevCR = false;
    }
    const last = chunk[chunk.length - 1];
    this.atLineStart = last === LF;
    this.lastWasCR = last === CR;

    let out = chunk;
    if (inserts.length > 0) {
      out = Buffer.allocUnsafe(chunk.length + inserts.length);
      let from = 0;
      let to = 0;
      for (let i = 0; i < inserts.length; i++) {
        const pos = inserts[i] as number;
        to += chunk.copy(out, to, from, pos);
        out[to++] = inserted[i] as number;
        from = pos;
      }
      chunk.copy(out, to, from);
    }
    if (this.replaceNul && out.indexOf(0) >= 0) {
      if (out === chunk) out = Buffer.from(chunk);
      for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, i + 1)) out[i] = 0x80;
    }
    let dots = 0;
    for (const b of inserted) if (b === DOT) dots++;
    this.messageOctets += out.length - dots;
    return out;
  }

  /**
   * The end of the multi-line body: a CRLF if the message lacked one, then ".\r\n".
   * The added CRLF is framing, not message content, so it is not counted (as in Dovecot).
   */
  finish(): Buffer {
    return Buffer.from(this.atLineStart ? '.\r\n' : '\r\n.\r\n');
  }
}
