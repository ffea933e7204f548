/** Listeners, connection caps and graceful shutdown. */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { ListenerConfig } from '../config/schema.js';
import { Connection } from './connection.js';
import type { ServerContext } from './server-context.js';

export interface BoundListener {
  readonly config: ListenerConfig;
  readonly address: AddressInfo;
}

export class Pop3Server {
  private readonly servers: { readonly server: Server; readonly listener: ListenerConfig }[] = [];
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  private stopping = false;

  constructor(private ctx: ServerContext) {}

  /**
   * Config reload: new connections get `next`; running ones keep theirs. A replaced context
   * is retired when its last connection ends.
   */
  replaceContext(next: ServerContext): void {
    const old = this.ctx;
    this.ctx = next;
    for (const { server, listener } of this.servers) {
      const options = next.secureOptionsFor(listener);
      if (listener.tls === 'implicit' && options !== undefined) (server as TlsServer).setSecureContext(options);
    }
    this.retireIfIdle(old);
  }

  private retireIfIdle(ctx: ServerContext): void {
    if (ctx === this.ctx || [...this.connections].some((c) => c.ctx === ctx)) return;
    void ctx.retire().catch((err: unknown) => this.ctx.logger.warn({ err }, 'releasing the old config failed'));
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  async listen(): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    for (const listener of this.ctx.config.listeners) {
      const server = this.createServer(listener);
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

  private createServer(listener: ListenerConfig): Server {
    const accept = (socket: Socket): void => this.accept(socket, listener);
    if (listener.tls !== 'implicit') return createTcpServer({ noDelay: true }, accept);
    const server = createTlsServer(
      {
        ...this.ctx.secureOptionsFor(listener),
        handshakeTimeout: 30_000,
        // Read at handshake time, so a reload's certificates apply to new connections.
        SNICallback: (name, done) => this.ctx.sniCallback(listener)(name, done),
      },
      accept,
    );
    server.on('tlsClientError', (err, socket) => {
      this.ctx.logger.info({ peer: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
    });
    return server;
  }

  private accept(socket: Socket, listener: ListenerConfig): void {
    const { limits } = this.ctx.config;
    const ip = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => undefined);
    if (this.stopping) return refuse(socket, '-ERR [SYS/TEMP] Server is shutting down.');
    if (this.connections.size >= limits.maxConnections) {
      this.ctx.logger.warn({ peer: ip, limit: limits.maxConnections }, 'connection refused: maxConnections');
      return refuse(socket, '-ERR [SYS/TEMP] Too many connections, try again later.');
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= limits.maxConnectionsPerIp) {
      this.ctx.logger.warn({ peer: ip, limit: limits.maxConnectionsPerIp }, 'connection refused: maxConnectionsPerIp');
      return refuse(socket, '-ERR [SYS/TEMP] Too many connections from your address.');
    }
    this.perIp.set(ip, fromIp + 1);
    const conn = new Connection(socket, this.ctx, listener);
    this.connections.add(conn);
    void conn.done.then(() => {
      this.connections.delete(conn);
      this.retireIfIdle(conn.ctx);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
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
    const allDone = (): Promise<unknown> => Promise.all([...this.connections].map((c) => c.done));
    if (this.connections.size > 0) {
      this.ctx.logger.info({ sessions: this.connections.size, graceMs }, 'shutdown: waiting for sessions');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([allDone(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const conn of this.connections) {
        if (conn.state !== 'UPDATE') conn.close('-ERR [SYS/TEMP] Server is shutting down; nothing was deleted.');
      }
      await allDone();
    }
    await closed;
  }
}

function refuse(socket: Socket, line: string): void {
  socket.end(line + '\r\n');
  setTimeout(() => socket.destroy(), 1000).unref();
}
