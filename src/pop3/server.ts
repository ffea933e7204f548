/** Listeners, connection caps, the PROXY header, the implicit-TLS handshake and graceful shutdown. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/schema.js';
import { readProxyHeader } from '../proxy-protocol/read-header.js';
import { TrustedSources } from '../proxy-protocol/trusted-sources.js';
import { plainAddress, type ClientAddress } from './client-address.js';
import { Connection } from './connection.js';
import type { ServerContext } from './server-context.js';
import { serverHandshake } from './tls-handshake.js';

interface Listening {
  readonly server: Server;
  readonly listener: ListenerConfig;
  /** Peers that may send a PROXY header, when the listener expects one. */
  readonly trusted: TrustedSources | undefined;
}

export interface BoundListener {
  readonly config: ListenerConfig;
  readonly address: AddressInfo;
}

export class Pop3Server {
  private readonly servers: Listening[] = [];
  private readonly connections = new Set<Connection>();
  /** Every accepted socket counts from accept() to its close, handshaking or not. */
  private accepted = 0;
  private readonly perIp = new Map<string, number>();
  /** Sockets still sending their PROXY header or in their TLS handshake (no Connection yet): cut at shutdown. */
  private readonly opening = new Set<Socket>();
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
      const trusted = listener.proxyProtocol === undefined ? undefined : new TrustedSources(listener.proxyProtocol.trusted);
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket, { server, listener, trusted }));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listener.host, port: listener.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.ctx.logger.error({ err }, 'listener error'));
      this.servers.push({ server, listener, trusted });
      const address = server.address() as AddressInfo;
      bound.push({ config: listener, address });
      this.ctx.logger.info({ host: address.address, port: address.port, tls: listener.tls, proxyProtocol: trusted !== undefined }, 'listening');
    }
    return bound;
  }

  private accept(socket: Socket, { listener, trusted }: Listening): void {
    const ctx = this.ctx;
    const { limits } = ctx.config;
    const peer = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => undefined);
    if (this.stopping) return refuse(socket, listener, '-ERR [SYS/TEMP] Server is shutting down.');
    if (this.accepted >= limits.maxConnections) {
      ctx.logger.warn({ peer, limit: limits.maxConnections }, 'connection refused: maxConnections');
      return refuse(socket, listener, '-ERR [SYS/TEMP] Too many connections, try again later.');
    }
    this.countOpen(socket);
    const direct: ClientAddress = { address: plainAddress(peer), port: socket.remotePort };
    if (listener.proxyProtocol === undefined || trusted === undefined) return this.admit(socket, listener, ctx, direct);
    // Anyone else could claim any address: a PROXY listener serves its trusted proxies only.
    if (!trusted.has(peer)) {
      ctx.logger.warn({ peer }, 'connection refused: not a trusted PROXY protocol source');
      return void socket.destroy();
    }
    this.opening.add(socket);
    void readProxyHeader(socket, listener.proxyProtocol.timeoutMs).then((result) => {
      this.opening.delete(socket);
      if (!result.ok) {
        ctx.logger.warn({ peer, err: result.reason }, 'connection closed: PROXY header missing or malformed');
        return;
      }
      if (this.stopping) return void socket.destroy();
      const { header } = result;
      const proxied = `v${header.version} ${header.kind}`;
      // LOCAL (the proxy's health check), UNKNOWN and families other than TCP: the proxy is the client.
      const client = header.source === undefined ? direct : { address: plainAddress(header.source.address), port: header.source.port, via: direct.address };
      this.admit(socket, listener, ctx, { ...client, proxied });
    });
  }

  /** The client's address is known: its per-address cap, then TLS (implicit) and the session. */
  private admit(socket: Socket, listener: ListenerConfig, ctx: ServerContext, client: ClientAddress): void {
    const { limits } = ctx.config;
    const fromIp = this.perIp.get(client.address) ?? 0;
    if (fromIp >= limits.maxConnectionsPerIp) {
      ctx.logger.warn({ peer: client.address, limit: limits.maxConnectionsPerIp }, 'connection refused: maxConnectionsPerIp');
      return refuse(socket, listener, '-ERR [SYS/TEMP] Too many connections from your address.');
    }
    this.countPerIp(socket, client.address);
    if (listener.tls !== 'implicit') return this.startSession(socket, listener, ctx, client);
    const secureContext = ctx.secureContextFor(listener);
    if (secureContext === undefined) return void socket.destroy();
    this.opening.add(socket);
    void serverHandshake(socket, secureContext, ctx.sniCallback(listener), limits.tlsHandshakeTimeoutSeconds * 1000).then((result) => {
      this.opening.delete(socket);
      if (!result.ok) {
        ctx.logger.info({ peer: client.address, err: result.reason }, 'TLS handshake failed');
        return;
      }
      if (this.stopping) return void result.socket.destroy();
      this.startSession(result.socket, listener, ctx, client);
    });
  }

  /** Counts the socket toward maxConnections until it closes. */
  private countOpen(socket: Socket): void {
    this.accepted++;
    socket.once('close', () => this.accepted--);
  }

  /** Counts the socket toward its client address's share until it closes. */
  private countPerIp(socket: Socket, ip: string): void {
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    socket.once('close', () => {
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
  }

  private startSession(socket: Socket, listener: ListenerConfig, ctx: ServerContext, client: ClientAddress): void {
    const conn = new Connection(socket, ctx, listener, client);
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
    for (const socket of this.opening) socket.destroy();
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

/**
 * An implicit-TLS client cannot read a plain -ERR: it is refused without a handshake, which
 * under a flood also spares the CPU a handshake costs.
 */
function refuse(socket: Socket, listener: ListenerConfig, line: string): void {
  if (listener.tls === 'implicit') return void socket.destroy();
  socket.end(line + '\r\n');
  const force = setTimeout(() => socket.destroy(), 1000).unref();
  socket.once('close', () => clearTimeout(force));
}
