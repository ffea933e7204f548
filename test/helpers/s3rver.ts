/**
 * A real S3-speaking server for the S3 adapter tests: s3rver (npm) in a child process on
 * 127.0.0.1 with a temporary folder, and an SDK client to fill and inspect its bucket.
 *
 * Two traps (checked, see shared/recipes): s3rver's listing continuation token uses DES, so it
 * runs with `--openssl-legacy-provider` (else every listing over 1,000 keys fails); and the SDK
 * must send no default checksums (`WHEN_REQUIRED`), else a streamed PutObject is stored with
 * its aws-chunked framing. s3rver accepts any secret for a known access key id (it does not
 * check SigV4 signatures) but refuses unknown key ids with 403 InvalidAccessKeyId.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { mapLimit } from '../../adapters/shared/map-limit.js';

const S3RVER_BIN = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');

/** The access key s3rver knows (its secret is not checked). */
export const S3RVER_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const BUCKET = 'mail';

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  readonly etag: string;
}

export interface S3rver {
  /** The s3rver process (for CPU figures); changes with restart(). */
  readonly pid: number;
  readonly port: number;
  readonly endpoint: string;
  readonly dir: string;
  readonly bucket: string;
  /** An SDK client for the tests' own reads and writes (not the gateway's). */
  readonly client: S3Client;
  put(key: string, body: string | Buffer): Promise<void>;
  /** Many objects, 16 uploads at a time. */
  putMany(objects: readonly { key: string; body: string | Buffer }[]): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  remove(key: string): Promise<void>;
  /** Every object under `prefix`, in S3's key order. */
  list(prefix?: string): Promise<ListedObject[]>;
  /**
   * Makes an object older: s3rver reports its file's mtime as LastModified, and no S3 API can
   * set it (for delivery-order and `recent:` tests).
   */
  backdate(key: string, when: Date): void;
  /** Kills the server (SIGKILL: an outage, not a shutdown); the data stays. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export function s3Client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string } = S3RVER_KEY): S3Client {
  // As in adapters/s3/client.ts: the pinned SDK supports Node 20; its notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    // A copy: the SDK marks the object it is given (it adds `$source`).
    credentials: { ...credentials },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function launch(dir: string, port: number, bucket: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', S3RVER_BIN, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--configure-bucket', bucket],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s; stderr: ${err}`)), 15_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /S3rver listening on [^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${signal ?? code}) before listening; stderr: ${err}`));
    });
  });
  return { child, port: listening };
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startS3rver(opts: { bucket?: string } = {}): Promise<S3rver> {
  const bucket = opts.bucket ?? BUCKET;
  const dir = mkdtempSync(join(tmpdir(), 'popgate-s3rver-'));
  let { child, port } = await launch(dir, 0, bucket);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = s3Client(endpoint);
  const put = async (key: string, body: string | Buffer): Promise<void> => {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }));
  };
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exitOf(child);
  };
  return {
    get pid() {
      return child.pid as number;
    },
    port,
    endpoint,
    dir,
    bucket,
    client,
    put,
    async putMany(objects) {
      await mapLimit(objects, 16, (o) => put(o.key, o.body));
    },
    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async list(prefix = '') {
      const out: ListedObject[] = [];
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
        for (const o of page.Contents ?? []) {
          out.push({ key: o.Key as string, size: o.Size as number, lastModified: o.LastModified as Date, etag: o.ETag as string });
        }
      }
      return out;
    },
    backdate(key, when) {
      const segments = key.split('/');
      const last = segments.pop() as string;
      utimesSync(join(dir, bucket, ...segments, `${last}._S3rver_object`), when, when);
    },
    kill,
    async restart() {
      await kill();
      ({ child, port } = await launch(dir, port, bucket));
    },
    async stop() {
      client.destroy();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});
