/**
 * Reads the items of one `* n FETCH (...)` response as its parts arrive: the UID, and the body
 * (`BODY[]`, `BODY[]<offset>`), whose literal is passed to a sink piece by piece. Other items
 * (FLAGS, MODSEQ, EMAILID, lists with literals inside) are skipped whatever their shape.
 */

/** Where a body goes. `uid` is known when the server put the UID item before the body. */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
}

export type OpenBody = (response: FetchResponse, size: number) => BodySink | undefined;

const MARKER = /~?\{\d{1,15}\}$/;
const SP = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** Items whose values are kept (as their text; a list without its parentheses). */
const KEPT = new Set(['RFC822.SIZE', 'FLAGS', 'EMAILID', 'X-GM-MSGID']);

function isBody(name: string): boolean {
  return /^(BODY|BINARY)\[\](<\d+>)?$/.test(name);
}

export class FetchResponse {
  uid: number | undefined;
  /** The body came as a quoted string or literal (NIL or no body at all leave this false). */
  hadBody = false;
  private state: 'name' | 'value' | 'list' | 'done' = 'name';
  private name = '';
  private listDepth = 0;
  private sink: BodySink | undefined;
  private literalIsValue = false;
  /** Where the list being skipped began, when that was in the current part. */
  private listFrom = -1;
  private kept: Map<string, string> | undefined;

  constructor(
    readonly seq: number,
    private readonly openBody: OpenBody,
  ) {}

  /** One part of the response text, from `from` (the first part: after `* n FETCH (`). */
  text(part: string, from = 0): void {
    const marker = MARKER.exec(part);
    const stop = marker === null ? part.length : marker.index;
    let i = from;
    while (i < stop && this.state !== 'done') {
      if (this.state === 'list') {
        i = this.skipList(part, i, stop);
        continue;
      }
      const c = part.charCodeAt(i);
      if (c === SP) {
        i++;
      } else if (this.state === 'name') {
        if (c === RPAREN) this.state = 'done';
        else i = this.readName(part, i, stop);
      } else if (c === QUOTE) {
        const [value, next] = readQuoted(part, i, stop);
        this.item(value, true);
        i = next;
      } else if (c === LPAREN) {
        this.state = 'list';
        this.listDepth = 0;
        this.listFrom = i;
      } else {
        let j = i;
        while (j < stop && part.charCodeAt(j) !== SP && part.charCodeAt(j) !== RPAREN) j++;
        this.item(part.slice(i, j), false);
        i = j;
      }
    }
    // A literal follows: the value of the current item, or something inside a skipped list.
    this.literalIsValue = marker !== null && this.state === 'value';
    this.listFrom = -1;
  }

  /** RFC822.SIZE: undefined if the item was not sent (an unasked FETCH), null if it is not a number (NIL). */
  get size(): number | null | undefined {
    const v = this.kept?.get('RFC822.SIZE');
    if (v === undefined) return undefined;
    return /^\d{1,15}$/.test(v) ? Number(v) : null;
  }

  /** The FLAGS, if they were sent. */
  get flags(): readonly string[] {
    return (this.kept?.get('FLAGS') ?? '').split(' ').filter((f) => f !== '');
  }

  /**
   * RFC 8474 EMAILID or Gmail's X-GM-MSGID: an id that survives a UIDVALIDITY change. The first
   * token, unquoted, as imapflow reads it (so UIDLs stay what they were); NIL or empty is none.
   */
  get emailId(): string | undefined {
    const raw = this.kept?.get('EMAILID') ?? this.kept?.get('X-GM-MSGID');
    const first = raw
      ?.trim()
      .split(/\s+/)[0]
      ?.replace(/^"(.*)"$/, '$1');
    return first === undefined || first === '' || first.toUpperCase() === 'NIL' ? undefined : first;
  }

  literalStart(size: number): void {
    this.sink = undefined;
    if (!this.literalIsValue || !isBody(this.name)) return;
    this.hadBody = true;
    this.sink = this.openBody(this, size);
  }

  literalData(chunk: Buffer): void {
    this.sink?.data(chunk);
  }

  literalEnd(): void {
    this.sink?.end();
    this.sink = undefined;
    if (this.literalIsValue) this.state = 'name';
    this.literalIsValue = false;
  }

  private readName(part: string, i: number, stop: number): number {
    let brackets = 0;
    let j = i;
    for (; j < stop; j++) {
      const c = part.charCodeAt(j);
      if (c === LBRACKET) brackets++;
      else if (c === RBRACKET) brackets--;
      else if (c === SP && brackets <= 0) break;
    }
    this.name = part.slice(i, j).toUpperCase();
    this.state = 'value';
    return j + 1;
  }

  /** Skips a parenthesized value (quoted strings inside may hold parentheses). */
  private skipList(part: string, i: number, stop: number): number {
    for (; i < stop; i++) {
      const c = part.charCodeAt(i);
      if (c === QUOTE) i = readQuoted(part, i, stop)[1] - 1;
      else if (c === LPAREN) this.listDepth++;
      else if (c === RPAREN && --this.listDepth === 0) {
        this.state = 'name';
        if (this.listFrom >= 0) this.keep(part.slice(this.listFrom + 1, i));
        return i + 1;
      }
    }
    return stop;
  }

  private keep(value: string): void {
    if (!KEPT.has(this.name)) return;
    this.kept ??= new Map();
    this.kept.set(this.name, value);
  }

  private item(value: string, quoted: boolean): void {
    this.state = 'name';
    this.keep(value);
    if (this.name === 'UID' && /^\d{1,10}$/.test(value)) this.uid = Number(value);
    else if (isBody(this.name) && quoted) {
      // A server may send a small body as a quoted string (it cannot hold CR or LF).
      this.hadBody = true;
      const bytes = Buffer.from(value, 'latin1');
      const sink = this.openBody(this, bytes.length);
      if (sink !== undefined) {
        if (bytes.length > 0) sink.data(bytes);
        sink.end();
      }
    }
  }
}

/** The value of the quoted string starting at `i`, and the index after its closing quote. */
function readQuoted(part: string, i: number, stop: number): [string, number] {
  let value = '';
  let j = i + 1;
  for (; j < stop; j++) {
    const c = part.charCodeAt(j);
    if (c === QUOTE) return [value, j + 1];
    if (c === BACKSLASH && j + 1 < stop) j++;
    value += part[j];
  }
  return [value, stop];
}
