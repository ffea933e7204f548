/**
 * Reading objects: whole or by byte range, always streamed from the response (never buffered
 * unless the caller asks for a small piece, and then never more than that piece), and only the
 * version that was listed (If-Match on the listed ETag: an object replaced since the listing is
 * "gone", not silently different).
 */
import { PassThrough, Readable, pipeline } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { StoreError } from '../contract.js';
import { classifyS3Error } from './errors.js';
import { sliceRange, type ByteRange } from './range-fallback.js';

/** One listed object: the key, its version (ETag) and its stored size. */
export interface S3Object {
  readonly key: string;
  readonly etag: string | undefined;
  /** Octets as stored (LF objects are larger on the wire). */
  readonly stored: number;
}

export class ObjectReader {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** The object (or a range of it) as a stream. @throws StoreError NOT_FOUND when it is gone. */
  async open(obj: S3Object, signal: AbortSignal, range?: ByteRange): Promise<Readable> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: obj.key,
          ...(obj.etag !== undefined && { IfMatch: obj.etag }),
          ...(range !== undefined && { Range: `bytes=${range.start}-${range.end ?? ''}` }),
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw classifyS3Error(err, range === undefined ? 'reading an object' : 'reading part of an object');
    }
    // In Node the SDK's body is the HTTP response itself (an IncomingMessage).
    const body = out.Body;
    if (!(body instanceof Readable)) throw new StoreError('TEMPORARY', 's3: GetObject returned no readable body');
    if (range !== undefined && out.$metadata.httpStatusCode !== 206) return sliceRange(body, range);
    return body;
  }

  /**
   * A small object or range, whole in memory (size probes, TOP heads, read-ahead): never more
   * than was asked for, whatever the server sends.
   */
  async read(obj: S3Object, signal: AbortSignal, range?: ByteRange): Promise<Buffer> {
    const wanted = range === undefined ? obj.stored : Math.min(range.end ?? Number.POSITIVE_INFINITY, obj.stored - 1) - range.start + 1;
    const stream = await this.open(obj, signal, range);
    const chunks: Buffer[] = [];
    let held = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (held + chunk.length > wanted) {
          // More than the listed size: the object was replaced and the server ignored If-Match.
          if (range === undefined) throw new StoreError('NOT_FOUND', 's3: the object is longer than listed (replaced since the listing)');
          // A partial answer longer than the range: keep the range, close the response.
          chunks.push(chunk.subarray(0, wanted - held));
          held = wanted;
          break;
        }
        chunks.push(chunk);
        held += chunk.length;
      }
    } catch (err) {
      throw classifyS3Error(err, 'reading an object');
    }
    return Buffer.concat(chunks, held);
  }
}

/**
 * `head` then everything `rest` yields, as one stream. Destroying the result (the core does,
 * once TOP has its lines) destroys `rest`, which closes its HTTP response.
 */
export function prepend(head: Buffer, rest: Readable): Readable {
  const out = new PassThrough();
  out.write(head);
  // pipeline destroys both streams on a failure of either: a broken read reaches the core.
  pipeline(rest, out, () => undefined);
  return out;
}
