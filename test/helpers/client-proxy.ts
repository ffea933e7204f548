/**
 * A recording TCP proxy in front of the gateway: it keeps every chunk the client wrote (one
 * entry per `data` event, so several commands in one entry means the client sent them without
 * waiting for the answers) and the first part of what the server sent.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const SERVER_TEXT_LIMIT = 64 * 1024;

export interface RecordingProxy {
  readonly port: number;
  /** Client -> server chunks, as they arrived at the proxy. */
  readonly clientChunks: string[];
  /** Server -> client text (the first 64 KiB of each connection, concatenated). */
  serverText(): string;
  close(): Promise<void>;
}

export async function recordingProxy(targetPort: number): Promise<RecordingProxy> {
  const clientChunks: string[] = [];
  let serverText = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let fromServer = 0;
    client.on('data', (d: Buffer) => {
      clientChunks.push(d.toString('latin1'));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (fromServer < SERVER_TEXT_LIMIT) serverText += d.subarray(0, SERVER_TEXT_LIMIT - fromServer).toString('latin1');
      fromServer += d.length;
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) {
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clientChunks,
    serverText: () => serverText,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The command lines in one client chunk. */
export function commandsIn(chunk: string): string[] {
  return chunk.split('\r\n').filter((l) => l !== '');
}
