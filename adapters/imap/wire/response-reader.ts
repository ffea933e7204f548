/**
 * Frames what an IMAP server sends: response lines, and the literals (`{n}` then n octets) inside
 * them. A literal is handed on in the pieces the socket delivers, never assembled, so a 25 MB
 * message body costs no more memory here than one socket read.
 */
import { StoreError } from '../../contract.js';

export interface ResponseHandler {
  /** Text of a line (no CRLF), or of a line up to and including a literal's `{n}`. */
  text(part: string): void;
  literalStart(size: number): void;
  literalData(chunk: Buffer): void;
  literalEnd(): void;
  /** The response ended: its last line had no literal. */
  end(): void;
}

const LF = 0x0a;
const CR = 0x0d;
/** `{n}`, or `~{n}` (RFC 3516 literal8), at the end of a line. */
const LITERAL_MARKER = /~?\{(\d{1,15})\}$/;

export class ResponseReader {
  private line: Buffer[] = [];
  private lineBytes = 0;
  private literalLeft = 0;

  constructor(
    private readonly handler: ResponseHandler,
    /** Longest line accepted (literals excluded): a server that never ends a line must not exhaust memory. */
    private readonly maxLine: number,
    /** When given, lines are dropped until one passes this test (joining a stream mid-line). */
    private resync?: (line: string) => boolean,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - at);
        this.literalLeft -= take;
        this.handler.literalData(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
        at += take;
        if (this.literalLeft === 0) this.handler.literalEnd();
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      const end = lf < 0 ? chunk.length : lf + 1;
      this.lineBytes += end - at;
      if (this.lineBytes > this.maxLine) throw new StoreError('TEMPORARY', `imap: the server sent a line longer than ${this.maxLine} octets`);
      this.line.push(chunk.subarray(at, end));
      at = end;
      if (lf >= 0) this.lineDone();
    }
  }

  private lineDone(): void {
    const raw = this.line.length === 1 ? (this.line[0] as Buffer) : Buffer.concat(this.line);
    this.line = [];
    this.lineBytes = 0;
    let stop = raw.length - 1;
    if (stop > 0 && raw[stop - 1] === CR) stop--;
    const text = raw.toString('latin1', 0, stop);
    if (this.resync !== undefined) {
      if (!this.resync(text)) return;
      this.resync = undefined;
    }
    const marker = LITERAL_MARKER.exec(text);
    this.handler.text(text);
    if (marker === null) {
      this.handler.end();
      return;
    }
    const size = Number(marker[1]);
    this.handler.literalStart(size);
    this.literalLeft = size;
    if (size === 0) this.handler.literalEnd();
  }
}
