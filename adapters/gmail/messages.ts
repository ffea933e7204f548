/**
 * Reading one message: messages.get format=raw, the `raw` field decoded as the JSON streams in.
 * The bytes are the message as stored (LF or CRLF); the core sends them as CRLF.
 */
import { pipeline, type Readable } from 'node:stream';
import type { BackendLogin } from '../contract.js';
import { Base64FieldStream } from '../shared/json-base64-field.js';
import type { GmailClient } from './client.js';

const RAW = new URLSearchParams({ format: 'raw' });

export class MessageReader {
  constructor(private readonly client: GmailClient) {}

  /** The message's bytes as they arrive; destroying the stream ends the HTTP request. */
  async open(login: BackendLogin, id: string, signal: AbortSignal): Promise<Readable> {
    const res = await this.client.open(login, { op: 'get', path: `/${encodeURIComponent(id)}`, query: RAW }, signal);
    const decoded = new Base64FieldStream('raw');
    // A failure or early stop on either side destroys both (and so frees the connection).
    return pipeline(res.body, decoded, () => undefined);
  }

  /** The whole message (read-ahead of small messages). */
  async read(login: BackendLogin, id: string, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.open(login, id, signal)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}
