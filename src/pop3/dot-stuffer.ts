/**
 * Turns raw message bytes into a POP3 multi-line body in one streaming pass:
 * bare LF -> CRLF, a leading "." doubled, a missing final CRLF added, then ".\r\n".
 * Counts the message octets as the client receives them before un-stuffing (CRLF line ends,
 * without the added final CRLF), which is the size STAT/LIST/RETR must announce.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/** Shared, never written to: the same object may appear many times in one writev. */
const STUFFED_DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');
/**
 * Spans shorter than this are copied octet by octet: the fixed cost of a Buffer.copy call is a
 * large part of the conversion of LF files, whose lines are ~50 octets (figures: bench/README.md
 * "Figures behind code choices").
 */
const SHORT_SPAN = 64;

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

  /**
   * Encodes one chunk, appending the pieces to send, in order, to `into`. Pieces may be views
   * of `chunk`, which must stay unchanged until they are written.
   */
  push(chunk: Buffer, into: Buffer[]): void {
    if (chunk.length === 0) return;
    if (!this.replaceNul) {
      this.encode(chunk, into);
      return;
    }
    const start = into.length;
    this.encode(chunk, into);
    for (let p = start; p < into.length; p++) {
      const piece = into[p] as Buffer;
      if (piece.indexOf(0) < 0) continue;
      // Views share memory with the source (maybe a cached file): change a copy.
      const owned = Buffer.from(piece);
      for (let i = owned.indexOf(0); i >= 0; i = owned.indexOf(0, i + 1)) owned[i] = 0x80;
      into[p] = owned;
    }
  }

  /**
   * One pass. While every line already ends in CRLF (IMAP and S3 mail, CRLF Maildir files)
   * nothing is copied: a stuffed line costs two more views and a shared "." instead of a copy
   * of the chunk. From the first bare LF on, the rest of the chunk is copied once, as LF Maildir
   * files need, into an output with room for a line end every 8 octets; lines shorter than that
   * on average make it grow once, to the worst case (every octet a bare LF). Sizing for the worst
   * case from the start doubled the garbage per message, and GC took a fifth of the CPU.
   */
  private encode(chunk: Buffer, into: Buffer[]): void {
    const length = chunk.length;
    let out: Buffer | undefined;
    let to = 0;
    let from = 0; // first octet not yet emitted (as a view) or copied
    let pos = 0;
    let crAdded = 0;
    let atStart = this.atLineStart;
    const prevCR = this.lastWasCR;
    for (;;) {
      if (atStart && pos < length && chunk[pos] === DOT) {
        if (out === undefined) {
          if (pos > from) into.push(chunk.subarray(from, pos));
          into.push(STUFFED_DOT);
        } else {
          if (to + (pos - from) + 1 > out.length) out = grown(out, to, 2 * (length - from) + 1);
          to += chunk.copy(out, to, from, pos);
          out[to++] = DOT;
        }
        from = pos;
      }
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) break;
      const crBefore = lf > 0 ? chunk[lf - 1] === CR : prevCR;
      if (!crBefore) {
        // (Inline, not a helper: a closure would move `to` into a context object, which is measurably slower.)
        if (out === undefined) out = Buffer.allocUnsafe(length - from + ((length - from) >> 3) + 64);
        else if (to + (lf - from) + 2 > out.length) out = grown(out, to, 2 * (length - from));
        if (lf - from < SHORT_SPAN) {
          for (let i = from; i < lf; i++) out[to++] = chunk[i] as number;
        } else {
          to += chunk.copy(out, to, from, lf);
        }
        out[to++] = CR;
        out[to++] = LF;
        crAdded++;
        from = lf + 1;
      }
      pos = lf + 1;
      atStart = true;
    }
    const last = chunk[length - 1];
    this.atLineStart = last === LF;
    this.lastWasCR = last === CR;
    this.messageOctets += length + crAdded;
    if (out !== undefined) {
      if (to + (length - from) > out.length) out = grown(out, to, length - from);
      if (from < length) to += chunk.copy(out, to, from);
      into.push(out.subarray(0, to));
    } else if (from < length) {
      into.push(from === 0 ? chunk : chunk.subarray(from));
    }
  }

  /**
   * The end of the multi-line body: a CRLF if the message lacked one, then ".\r\n".
   * The added CRLF is framing, not message content, so it is not counted (as in Dovecot).
   */
  finish(): Buffer {
    return this.atLineStart ? TERMINATOR : CRLF_TERMINATOR;
  }
}

/** A copy of out[0, used) with room for `more` octets after it. */
function grown(out: Buffer, used: number, more: number): Buffer {
  const bigger = Buffer.allocUnsafe(used + more);
  out.copy(bigger, 0, 0, used);
  return bigger;
}
