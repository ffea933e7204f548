/**
 * Counts the octets a message has once every bare LF is sent as CRLF: the exact size a POP3
 * client is told. Must agree with the core's DotStuffer.messageOctets (a test checks it).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

export class CrlfSizeCounter {
  octets = 0;
  private lastWasCR = false;

  push(chunk: Buffer): void {
    let bareLf = 0;
    for (let lf = chunk.indexOf(0x0a); lf >= 0; lf = chunk.indexOf(0x0a, lf + 1)) {
      const crBefore = lf > 0 ? chunk[lf - 1] === 0x0d : this.lastWasCR;
      if (!crBefore) bareLf++;
    }
    if (chunk.length > 0) this.lastWasCR = chunk[chunk.length - 1] === 0x0d;
    this.octets += chunk.length + bareLf;
  }
}

export async function crlfSizeOfStream(stream: Readable): Promise<number> {
  const counter = new CrlfSizeCounter();
  for await (const chunk of stream) counter.push(chunk as Buffer);
  return counter.octets;
}

export function crlfSizeOfFile(path: string): Promise<number> {
  return crlfSizeOfStream(createReadStream(path, { highWaterMark: 256 * 1024 }));
}
