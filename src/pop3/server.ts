/** Listeners, connection caps, the implicit-TLS handshake and graceful shutdown. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import { Connection } from './connection.js';
import type { ServerContext } from './server-context.js';
import { serverHandshake } from './tls-handshake.js';

export interface BoundListener {
  readonly config: ListenerConfig;
  readonly address: AddressInfo;
}

export class Pop3Server {
  private readonly servers: { readonly server: Server; readonly listener: ListenerConfig }[] = [];
  private readonly connections = new Set<Connection>();
  /** Every accepted socket counts from accept() to its close, handshaking or not. */
  private accepted = 0;
  private readonly perIp = new Map<string, number>();
  /** Implicit-TLS sockets still in their handshake (no Connection yet): cut at shutdown. */
  private readonly handshaking = new Set<Socket>();
  private stopping = false;

  constructor(private ctx: ServerContext) {}

  /**
   * Config reload: new connections get `next`; running ones keep theirs. A replaced context
   * is retired when its last connection ends. Handshakes read the context when they start, so
   * new certificates apply at once.
   */
  replaceContext(next: ServerContext): void {
    const old = this.ctx;
    this.ctx = next;
    this.retireIfIdle(old);
  }

  private retireIfIdle(ctx: ServerContext): void {
    if (ctx === this.ctx || [...this.connections].some((c) => c.ctx === ctx)) return;
    void ctx.retire().catch((err: unknown) => this.ctx.logger.warn({ err }, 'releasing the old config failed'));
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  /** Accepted sockets, including those still in a TLS handshake. */
  get openSockets(): number {
    return this.accepted;
  }

  async listen(): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    for (const listener of this.ctx.config.listeners) {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket, listener));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listener.host, port: listener.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.ctx.logger.error({ err }, 'listener error'));
      this.servers.push({ server, listener });
      const address = server.address() as AddressInfo;
      bound.push({ config: listener, address });
      this.ctx.logger.info({ host: address.address, port: address.port, tls: listener.tls }, 'listening');
    }
    return bound;
  }

  private accept(socket: Socket, listener: ListenerConfig): void {
    const ctx = this.ctx;
    const { limits } = ctx.config;
    const ip = socket.remoteAddress ?? 'unknown';
    const implicitTls = listener.tls === 'implicit';
    socket.on('error', () => undefined);
    // An implicit-TLS client cannot read a plain -ERR: it is refused without a handshake,
    // which under a flood also spares the CPU a handshake costs.
    const refuse = (line: string): void => (implicitTls ? void socket.destroy() : refuseWith(socket, line));
    if (this.stopping) return refuse('-ERR [SYS/TEMP] Server is shutting down.');
    if (this.accepted >= limits.maxConnections) {
      ctx.logger.warn({ peer: ip, limit: limits.maxConnections }, 'connection refused: maxConnections');
      return refuse('-ERR [SYS/TEMP] Too many connections, try again later.');
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= limits.maxConnectionsPerIp) {
      ctx.logger.warn({ peer: ip, limit: limits.maxConnectionsPerIp }, 'connection refused: maxConnectionsPerIp');
      return refuse('-ERR [SYS/TEMP] Too many connections from your address.');
    }
    this.count(socket, ip);
    if (!implicitTls) return this.startSession(socket, listener, ctx);
    const secureContext = ctx.secureContextFor(listener);
    if (secureContext === undefined) return void socket.destroy();
    this.handshaking.add(socket);
    void serverHandshake(socket, secureContext, ctx.sniCallback(listener), limits.tlsHandshakeTimeoutSeconds * 1000).then((result) => {
      this.handshaking.delete(socket);
      if (!result.ok) {
        ctx.logger.info({ peer: ip, err: result.reason }, 'TLS handshake failed');
        return;
      }
      if (this.stopping) return void result.socket.destroy();
      this.startSession(result.socket, listener, ctx);
    });
  }

  /** Counts the socket toward maxConnections and its address's share until it closes. */
  private count(socket: Socket, ip: string): void {
    this.accepted++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    socket.once('close', () => {
      this.accepted--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
  }

  private startSession(socket: Socket, listener: ListenerConfig, ctx: ServerContext): void {
    const conn = new Connection(socket, ctx, listener);
    this.connections.add(conn);
    void conn.done.then(() => {
      this.connections.delete(conn);
      this.retireIfIdle(conn.ctx);
    });
    conn.start();
  }

  /**
   * Stops accepting, lets sessions finish for `graceMs`, then closes the rest without
   * deleting anything. Sessions already applying a QUIT (UPDATE) are allowed to finish.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const socket of this.handshaking) socket.destroy();
    const allDone = (): Promise<unknown> => Promise.all([...this.connections].map((c) => c.done));
    if (this.connections.size > 0) {
      this.ctx.logger.info({ sessions: this.connections.size, graceMs }, 'shutdown: waiting for sessions');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([allDone(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const conn of this.connections) {
        if (conn.state.name !== 'UPDATE') conn.close('-ERR [SYS/TEMP] Server is shutting down; nothing was deleted.');
      }
      await allDone();
    }
    await closed;
  }
}

function refuseWith(socket: Socket, line: string): void {
  socket.end(line + '\r\n');
  const force = setTimeout(() => socket.destroy(), 1000).unref();
  socket.once('close', () => clearTimeout(force));
}
