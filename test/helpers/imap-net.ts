/**
 * Network fixtures for the IMAP adapter tests: a byte-counting TCP proxy in front of Dovecot, a
 * server that accepts and never says anything, a scripted fake IMAP server, and a POP3 client
 * that checks a huge multi-line answer as it arrives instead of buffering it.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface CountingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client connections still open. */
  readonly open: number;
  /** Octets the upstream server sent, all connections together. */
  readonly fromServer: number;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:`targetPort` that counts connections and octets. */
export async function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let open = 0;
  let fromServer = 0;
  const server = createServer((client) => {
    accepted++;
    open++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    // Back-pressure both ways, so the proxy never buffers more than the sockets do.
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => (fromServer += d.length));
    upstream.pipe(client);
    let counted = false;
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      if (!counted) {
        counted = true;
        open--;
      }
    };
    for (const s of [client, upstream]) {
      s.on('error', done);
      s.on('close', done);
      s.on('close', () => sockets.delete(s));
    }
  });
  const port = await listen(server);
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return open;
    },
    get fromServer() {
      return fromServer;
    },
    close: () => closeServer(server, sockets),
  };
}

export interface FakeServer {
  readonly port: number;
  readonly accepted: number;
  /** Connections still open. */
  readonly open: number;
  /** Every line the clients sent. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * A TCP server driven by `onConnect` (called with each socket) and `onLine` (each CRLF line).
 * With neither it accepts connections and never says a word.
 */
export async function fakeServer(handlers: { onConnect?: (s: Socket) => void; onLine?: (s: Socket, line: string) => void } = {}): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        received.push(line);
        handlers.onLine?.(socket, line);
      }
    });
    handlers.onConnect?.(socket);
  });
  const port = await listen(server);
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    received,
    close: () => closeServer(server, sockets),
  };
}

export interface BodyCheck {
  /** Octets of the answer received (compared) so far. */
  readonly received: number;
  /** Offset of the first octet that differed from the expectation, if any. */
  readonly mismatchAt: number | undefined;
  /** The last (up to) 5 octets received. */
  readonly tail: Buffer;
  /** True when the whole expectation arrived (so the terminator too). */
  readonly complete: boolean;
  /** True when the connection closed before that. */
  readonly closed: boolean;
}

/**
 * A POP3 client for huge answers: lines are buffered as usual, but a multi-line body is compared
 * with the expected wire octets chunk by chunk as it arrives and never held.
 */
export class StreamingPop3 {
  private buf: Buffer = Buffer.alloc(0);
  private sink: ((chunk: Buffer) => void) | undefined;
  private ended = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.sink !== undefined) this.sink(chunk);
      else this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<StreamingPop3> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const c = new StreamingPop3(socket);
    await c.readLine();
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  readLine(timeoutMs = 10_000): Promise<string> {
    return this.until(
      () => {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) return undefined;
        const line = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return line;
      },
      timeoutMs,
      'a line',
    );
  }

  async command(line: string, timeoutMs = 10_000): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.readLine(timeoutMs);
  }

  async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    const p = await this.command(`PASS ${password}`);
    if (!u.startsWith('+OK') || !p.startsWith('+OK')) throw new Error(`login failed: ${u} / ${p}`);
  }

  /** Live progress of the body being checked (valid after `checkBody` was called). */
  progress: BodyCheck = { received: 0, mismatchAt: undefined, tail: Buffer.alloc(0), complete: false, closed: false };

  /**
   * Reads the body of a multi-line answer whose status line was already read, comparing it with
   * `expected` (the exact octets: dot-stuffed body and ".\r\n"). Resolves when all of it arrived
   * or when the connection closed; never rejects for a short or wrong body (the result says).
   */
  checkBody(expected: Buffer, timeoutMs = 60_000): Promise<BodyCheck> {
    let received = 0;
    let mismatchAt: number | undefined;
    let tail: Buffer = Buffer.alloc(0);
    const update = (complete: boolean, closed: boolean): BodyCheck => (this.progress = { received, mismatchAt, tail, complete, closed });
    update(false, false);
    return new Promise<BodyCheck>((resolve, reject) => {
      let finished = false;
      const finish = (complete: boolean): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.sink = undefined;
        this.socket.off('close', onClose);
        resolve(update(complete, !complete));
      };
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        this.sink = undefined;
        reject(new Error(`timeout reading a body: ${received} of ${expected.length} octets`));
      }, timeoutMs);
      const onClose = (): void => finish(false);
      const feed = (chunk: Buffer): void => {
        const take = Math.min(chunk.length, expected.length - received);
        const part = chunk.subarray(0, take);
        if (mismatchAt === undefined && !part.equals(expected.subarray(received, received + take))) {
          let i = 0;
          while (i < take && part[i] === expected[received + i]) i++;
          mismatchAt = received + i;
        }
        received += take;
        tail = Buffer.concat([tail, part]).subarray(-5);
        update(false, false);
        if (received === expected.length) {
          this.buf = Buffer.from(chunk.subarray(take));
          finish(true);
        }
      };
      this.sink = feed;
      this.socket.on('close', onClose);
      const pending = this.buf;
      this.buf = Buffer.alloc(0);
      if (pending.length > 0) feed(pending);
      if (this.ended) finish(false);
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Dot-stuffs a CRLF body and appends the terminator: the exact octets of a multi-line answer body. */
export function wireAnswer(body: Buffer): Buffer {
  const stuffed = Buffer.from(body.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
  return Buffer.concat([stuffed, Buffer.from('.\r\n')]);
}
