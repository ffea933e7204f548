/** A raw-socket POP3 client for scripted sessions: exact bytes in, exact bytes out. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

const DEFAULT_TIMEOUT_MS = 10_000;

export class Pop3TestClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  greeting = '';

  private constructor(public socket: Socket) {
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.wakeAll();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wakeAll();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wakeAll();
    });
    socket.on('error', () => undefined);
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connects and reads the greeting. */
  static async connect(port: number, opts: { tls?: ConnectionOptions; host?: string; localAddress?: string } = {}): Promise<Pop3TestClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket =
        opts.tls !== undefined
          ? tlsConnect({ host, port, ...(opts.localAddress !== undefined && { localAddress: opts.localAddress }), ...opts.tls }, () => resolve(s))
          : netConnect({ host, port, localAddress: opts.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new Pop3TestClient(socket);
    client.greeting = await client.readLine();
    return client;
  }

  /** Connects without reading anything (for tests of the greeting or refusals). */
  static async connectRaw(port: number, localAddress?: string): Promise<Pop3TestClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    return new Pop3TestClient(socket);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  private async waitFor<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}; unread: ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; unread: ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** One response line without CRLF. */
  readLine(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.waitFor(
      () => {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) return undefined;
        const line = this.buf.subarray(0, i).toString('utf8');
        this.buf = this.buf.subarray(i + 2);
        return line;
      },
      timeoutMs,
      'a line',
    );
  }

  /** The body of a multi-line response exactly as sent (still dot-stuffed), without ".\r\n". */
  readMultilineRaw(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    return this.waitFor(
      () => {
        if (this.buf.subarray(0, 3).equals(Buffer.from('.\r\n'))) {
          this.buf = this.buf.subarray(3);
          return Buffer.alloc(0);
        }
        const i = this.buf.indexOf('\r\n.\r\n');
        if (i < 0) return undefined;
        const body = Buffer.from(this.buf.subarray(0, i + 2));
        this.buf = this.buf.subarray(i + 5);
        return body;
      },
      timeoutMs,
      'the end of a multi-line response',
    );
  }

  /** The body of a multi-line response with dot-stuffing undone. */
  async readMultiline(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    return unstuff(await this.readMultilineRaw(timeoutMs));
  }

  /** Sends a command line and returns the one-line answer. */
  async command(line: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    this.send(line + '\r\n');
    return this.readLine(timeoutMs);
  }

  /** Sends a command that answers multi-line; returns the status and the un-stuffed body. */
  async multiline(line: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ status: string; body: Buffer }> {
    const status = await this.command(line, timeoutMs);
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0) };
    return { status, body: await this.readMultiline(timeoutMs) };
  }

  /** Lines of a multi-line answer as text. */
  async lines(line: string): Promise<{ status: string; lines: string[] }> {
    const { status, body } = await this.multiline(line);
    const text = body.toString('utf8');
    return { status, lines: text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n') };
  }

  /** Logs in with USER/PASS and asserts success. */
  async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    if (!u.startsWith('+OK')) throw new Error(`USER failed: ${u}`);
    const p = await this.command(`PASS ${password}`);
    if (!p.startsWith('+OK')) throw new Error(`PASS failed: ${p}`);
  }

  /** Upgrades with STLS; returns the STLS answer. */
  async startTls(tls: ConnectionOptions): Promise<string> {
    const answer = await this.command('STLS');
    if (!answer.startsWith('+OK')) return answer;
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ...tls }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.buf = Buffer.alloc(0);
    this.attach(secure);
    return answer;
  }

  /** Resolves when the server has closed the connection; returns what it sent before. */
  async closed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    await this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'the server to close');
    const rest = this.buf.toString('utf8');
    this.buf = Buffer.alloc(0);
    return rest;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Bytes received but not read yet. */
  get unread(): string {
    return this.buf.toString('utf8');
  }

  async quit(): Promise<string> {
    const answer = await this.command('QUIT');
    await this.closed().catch(() => undefined);
    return answer;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function unstuff(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  return Buffer.from(text.replace(/(^|\r\n)\./g, '$1'), 'latin1');
}
