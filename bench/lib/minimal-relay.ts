/**
 * Reference (f) of the HTTP store workloads: about the least any HTTP-to-POP3 gateway must do, in
 * the driver process: list the mailbox, read each message with `inFlight` requests ahead (the same
 * reader as (e)), turn it into a RETR answer (status line, LF -> CRLF and dot-stuffing with
 * popgate's own DotStuffer, terminator) and write it, in order and with back-pressure, to one TCP
 * connection that a byte sink in its own process reads. No POP3 commands, sessions, limits or
 * logs. Its CPU (the driver's while it runs) is what relaying alone costs here, so popgate's CPU
 * over it is what being a POP3 gateway adds; (e) has no second hop at all.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DotStuffer } from '../../src/pop3/dot-stuffer.js';
import type { SessionResult } from '../clients/raw-client.js';
import type { DirectWant, Measured } from './http-store-bench.js';
import { procStat } from './proc.js';

const BYTE_SINK = fileURLToPath(new URL('../clients/byte-sink.js', import.meta.url));

/** What (f) needs of a workload's reader: the listing and one message's stored bytes. */
export interface RelaySource {
  list(): Promise<string[]>;
  bytes(id: string): Promise<Buffer>;
}

async function relay(socket: Socket, source: RelaySource, ids: readonly string[], inFlight: number): Promise<{ written: number; crlf: number }> {
  let written = 0;
  let crlf = 0;
  const ahead: Promise<Buffer>[] = [];
  let next = 0;
  const refill = (): void => {
    while (next < ids.length && ahead.length < inFlight) ahead.push(source.bytes(ids[next++] as string));
  };
  refill();
  while (ahead.length > 0) {
    const message = await (ahead.shift() as Promise<Buffer>);
    refill();
    const stuffer = new DotStuffer();
    const pieces: Buffer[] = [Buffer.from(`+OK ${message.length} octets\r\n`)];
    stuffer.push(message, pieces);
    pieces.push(stuffer.finish());
    crlf += stuffer.messageOctets;
    socket.cork();
    let room = true;
    for (const p of pieces) {
      room = socket.write(p);
      written += p.length;
    }
    socket.uncork();
    if (!room) await once(socket, 'drain');
  }
  socket.end();
  return { written, crlf };
}

/** One (f) download; checks the sink got every octet written and the messages' CRLF octets. */
export async function relayOnce(
  backendPid: number,
  source: RelaySource,
  inFlight: number,
  want: DirectWant & { readonly crlfBytes: number },
): Promise<Measured> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const port = (server.address() as AddressInfo).port;
    const s0 = procStat(backendPid)?.cpuS ?? 0;
    const c0 = process.cpuUsage();
    const started = performance.now();
    const sink = spawn(process.execPath, [BYTE_SINK, '127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sink.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    sink.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const exited = once(sink, 'exit');
    const [socket] = (await once(server, 'connection')) as [Socket];
    const ids = await source.list();
    const listed = performance.now();
    const sent = await relay(socket, source, ids, inFlight);
    const [code] = (await exited) as [number | null];
    const totalS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(c0);
    if (code !== 0) throw new Error(`(f) relay: the byte sink exited ${code}: ${err}`);
    const got = (JSON.parse(out) as { bytes: number }).bytes;
    if (got !== sent.written) throw new Error(`(f) relay: wrote ${sent.written} octets, the sink read ${got}`);
    if (ids.length !== want.count || sent.crlf !== want.crlfBytes) {
      throw new Error(`(f) relay: ${ids.length} messages, ${sent.crlf} CRLF octets; expected ${want.count}, ${want.crlfBytes}`);
    }
    const s: SessionResult = {
      n: ids.length,
      bytes: sent.crlf,
      count: ids.length,
      statSize: sent.crlf,
      loginMs: listed - started,
      statMs: 0,
      uidlMs: 0,
      retrS: totalS - (listed - started) / 1000,
      totalS,
    };
    return { s, gwCpuS: (cpu.user + cpu.system) / 1e6, storeCpuS: (procStat(backendPid)?.cpuS ?? 0) - s0, gwPeakMiB: undefined };
  } finally {
    server.close();
  }
}
