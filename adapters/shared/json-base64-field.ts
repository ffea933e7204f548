/**
 * Streams the decoded bytes of one base64/base64url string field of a JSON object as the JSON
 * arrives (Gmail's `raw`): neither the JSON text nor the decoded value is ever held whole, so a
 * 25 MB message costs a few chunks of memory and the reader's pace sets the download's. Only
 * the top-level field of that name counts; everything else is scanned and dropped.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class Base64FieldStream extends Transform {
  /** Open objects and arrays around the current position. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The string being scanned is a key of the top-level object. */
  private stringIsKey = false;
  /** At depth 1: the next string is a key (after `{` or `,`). */
  private expectKey = false;
  private key = '';
  private lastKey = '';
  /** Inside the wanted field's value: its characters are decoded, not scanned. */
  private inValue = false;
  /** base64 characters not decoded yet (fewer than 4). */
  private pending = '';
  private found = false;
  private finished = false;

  constructor(private readonly field: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.scan(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.found) return done(new Error(`the JSON response has no "${this.field}" string`));
    if (!this.finished || this.depth !== 0) return done(new Error('the JSON response ended early'));
    done();
  }

  private scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.inValue) {
        const end = chunk.indexOf(QUOTE, i);
        const stop = end < 0 ? chunk.length : end;
        const slash = chunk.indexOf(BACKSLASH, i);
        if (slash >= 0 && slash < stop) throw new Error(`an escape inside "${this.field}": not base64`);
        this.decode(chunk.toString('latin1', i, stop), end >= 0);
        if (end < 0) return;
        this.inValue = false;
        this.finished = true;
        i = end + 1;
        continue;
      }
      const b = chunk[i++] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.stringIsKey) this.lastKey = this.key;
        } else if (this.stringIsKey && this.key.length <= this.field.length) this.key += String.fromCharCode(b);
        continue;
      }
      switch (b) {
        case QUOTE:
          if (this.depth === 1 && this.expectKey) {
            this.stringIsKey = true;
            this.expectKey = false;
            this.key = '';
          } else if (this.depth === 1 && this.lastKey === this.field && !this.found) {
            this.found = true;
            this.inValue = true;
            continue;
          } else this.stringIsKey = false;
          this.inString = true;
          break;
        case 0x7b: // {
        case 0x5b: // [
          this.depth++;
          if (this.depth === 1) this.expectKey = b === 0x7b;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          this.depth--;
          if (this.depth < 0) throw new Error('the JSON response is malformed');
          break;
        case 0x2c: // ,
          if (this.depth === 1) {
            this.expectKey = true;
            this.lastKey = '';
          }
          break;
      }
    }
  }

  private decode(text: string, last: boolean): void {
    // Padding can only end the value: look at the last octets instead of scanning the whole
    // chunk with a regular expression (a measurable share of the CPU per message: bench/README.md).
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
    const all = this.pending + (end === text.length ? text : text.slice(0, end));
    const whole = last ? all.length : all.length - (all.length % 4);
    if (last && whole % 4 === 1) throw new Error(`"${this.field}" is not valid base64`);
    if (whole > 0) this.push(Buffer.from(all.slice(0, whole), 'base64url'));
    this.pending = all.slice(whole);
  }
}
