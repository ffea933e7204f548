/**
 * A stand-in for an IMAP server with stable message ids, since none runs here: Dovecot 2.3 has
 * no OBJECTID (RFC 8474) and Gmail is not reachable. A proxy in front of the real Dovecot adds
 * the capability (`OBJECTID`, or Gmail's `X-GM-EXT-1`), takes the id item (`EMAILID`,
 * `X-GM-MSGID`) out of each FETCH command before Dovecot sees it, and answers it in every FETCH
 * response in the documented wire form: `EMAILID (M...)` (RFC 8474 section 5.1) or
 * `X-GM-MSGID <64-bit number>` (Google's IMAP extensions). The id depends on the UID only, so
 * it survives a UIDVALIDITY change, as the real ones do.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type ObjectIdFlavour = 'objectid' | 'gmail';

export interface ObjectIdProxy {
  readonly port: number;
  /** The id this proxy gives the message with this UID, as the client sees it. */
  idFor(uid: number): string;
  close(): Promise<void>;
}

const FLAVOURS = {
  objectid: { capability: 'OBJECTID', item: 'EMAILID', answer: (id: string) => `EMAILID (${id})` },
  gmail: { capability: 'X-GM-EXT-1', item: 'X-GM-MSGID', answer: (id: string) => `X-GM-MSGID ${id}` },
} as const;

function stableId(flavour: ObjectIdFlavour, uid: number): string {
  const digest = createHash('sha256').update(`message-${uid}`).digest();
  return flavour === 'objectid' ? `M${digest.toString('hex').slice(0, 24)}` : digest.readBigUInt64BE(0).toString();
}

/**
 * Splits an IMAP stream into lines, passing literals (`{n}` then n octets) through untouched;
 * `rewrite` sees each line that starts a response or command, never literal data.
 */
class LineRewriter {
  private buffered = Buffer.alloc(0);
  private literalLeft = 0;
  private atStart = true;

  constructor(private readonly rewrite: (line: string) => string) {}

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.buffered = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, data.length);
        out.push(data.subarray(0, n));
        data = data.subarray(n);
        this.literalLeft -= n;
        continue;
      }
      const lf = data.indexOf(0x0a);
      if (lf < 0) {
        this.buffered = Buffer.from(data);
        break;
      }
      const line = data.subarray(0, lf + 1).toString('latin1');
      data = data.subarray(lf + 1);
      out.push(Buffer.from(this.atStart ? this.rewrite(line) : line, 'latin1'));
      const literal = /\{(\d+)\+?\}\r?\n$/.exec(line);
      this.literalLeft = literal === null ? 0 : Number(literal[1]);
      // After a literal the same response goes on: that text does not start a line.
      this.atStart = literal === null;
    }
    return Buffer.concat(out);
  }
}

export async function objectIdProxy(dovecotImapPort: number, flavour: ObjectIdFlavour): Promise<ObjectIdProxy> {
  const f = FLAVOURS[flavour];
  const item = new RegExp(` ${f.item}(?=[ )])`, 'g');
  const toServer = (line: string): string => (/^\S+ (UID )?FETCH /i.test(line) ? line.replace(item, '') : line);
  const toClient = (line: string): string => {
    if (/^\* CAPABILITY /i.test(line)) return line.replace(/\r?\n$/, (end) => ` ${f.capability}${end}`);
    if (line.includes('[CAPABILITY ')) return line.replace(/\[CAPABILITY ([^\]]*)\]/, `[CAPABILITY $1 ${f.capability}]`);
    const fetch = /^\* \d+ FETCH \(/i.exec(line);
    const uid = /[( ]UID (\d+)/.exec(line);
    if (fetch === null || uid === null) return line;
    return line.slice(0, fetch[0].length) + `${f.answer(stableId(flavour, Number(uid[1])))} ` + line.slice(fetch[0].length);
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(dovecotImapPort, '127.0.0.1');
    const up = new LineRewriter(toServer);
    const down = new LineRewriter(toClient);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => upstream.write(up.push(d)));
    upstream.on('data', (d: Buffer) => client.write(down.push(d)));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    idFor: (uid) => stableId(flavour, uid),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
