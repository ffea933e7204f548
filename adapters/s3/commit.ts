/**
 * The UPDATE state: DeleteObjects in batches of 1,000 (each key's failure reported, the other
 * batches still tried), or a move (CopyObject under another prefix, then delete the copied
 * ones only), or keep. Never throws: every object not removed is in `failed` with a reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CopyObjectCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { mapLimit } from '../shared/map-limit.js';
import { withContentMd5 } from './content-md5.js';
import { describeS3Error, logOperatorProblem } from './errors.js';
import { S3_COPY_CONCURRENCY, S3_DELETE_BATCH, S3_DELETE_KEY_RETRIES, S3_DELETE_KEY_RETRY_BASE_MS } from './limits.js';
import type { S3Object } from './objects.js';

export type Failure<T> = { readonly message: T; readonly reason: string };

export type CommitPlan = { readonly mode: 'delete' } | { readonly mode: 'keep' } | { readonly mode: 'move'; readonly from: string; readonly to: string };

/**
 * Per-key answers that say "not now" rather than "no": S3 reports them inside a 200 answer, so
 * the SDK's retry strategy never sees them. They are sent again before being reported.
 */
const RETRY_KEY_CODES = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout']);

/** Half fixed, half random: the waits grow with each round and retries of many sessions spread. */
function backOff(round: number): number {
  const d = S3_DELETE_KEY_RETRY_BASE_MS * 2 ** round;
  return d / 2 + Math.random() * (d / 2);
}

/** One DeleteObjects request: the keys it refused, with S3's code and message. */
async function deleteOnce(client: S3Client, bucket: string, keys: readonly string[]): Promise<{ key: string; code: string; reason: string }[]> {
  // Quiet: the answer lists only the keys that failed.
  const out = await client.send(withContentMd5(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })));
  return (out.Errors ?? []).map((e) => ({ key: e.Key ?? '', code: e.Code ?? 'Error', reason: `${e.Code ?? 'Error'}: ${e.Message ?? ''}` }));
}

export async function deleteObjects<T extends S3Object>(client: S3Client, bucket: string, objects: readonly T[], logger: Logger): Promise<Failure<T>[]> {
  const failed: Failure<T>[] = [];
  for (let i = 0; i < objects.length; i += S3_DELETE_BATCH) {
    const batch = objects.slice(i, i + S3_DELETE_BATCH);
    const byKey = new Map(batch.map((o) => [o.key, o]));
    let keys = batch.map((o) => o.key);
    for (let round = 0; keys.length > 0; round++) {
      let refused;
      try {
        refused = await deleteOnce(client, bucket, keys);
      } catch (err) {
        // The SDK already retried the request itself (throttling, 5xx, resets).
        logOperatorProblem(logger, err, 'mailbox', { op: 'commit' });
        const reason = describeS3Error(err);
        for (const key of keys) failed.push({ message: byKey.get(key) as T, reason });
        break;
      }
      const again = round < S3_DELETE_KEY_RETRIES ? refused.filter((r) => RETRY_KEY_CODES.has(r.code)) : [];
      for (const r of refused) {
        const message = byKey.get(r.key);
        if (message !== undefined && !again.includes(r)) failed.push({ message, reason: r.reason });
      }
      keys = again.map((r) => r.key).filter((k) => byKey.has(k));
      if (keys.length > 0) await sleep(backOff(round));
    }
  }
  return failed;
}

/** CopySource is `bucket/key`, URL-encoded (each path segment; the slashes stay). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function copyAll<T extends S3Object>(
  client: S3Client,
  bucket: string,
  objects: readonly T[],
  from: string,
  to: string,
  logger: Logger,
): Promise<{ copied: T[]; failed: Failure<T>[] }> {
  const copied: T[] = [];
  const failed: Failure<T>[] = [];
  await mapLimit(objects, S3_COPY_CONCURRENCY, async (obj) => {
    const target = to + obj.key.slice(from.length);
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: target,
          CopySource: copySource(bucket, obj.key),
          ...(obj.etag !== undefined && { CopySourceIfMatch: obj.etag }),
        }),
      );
      copied.push(obj);
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey') {
        // Already removed by someone else: nothing is left to move, and nothing is lost by us.
        logger.warn({ key: obj.key }, 's3: a message to move was already gone');
        copied.push(obj);
      } else {
        logOperatorProblem(logger, err, 'mailbox', { op: 'commit', key: obj.key });
        failed.push({ message: obj, reason: `copy: ${describeS3Error(err)}` });
      }
    }
  });
  return { copied, failed };
}

export async function applyCommit<T extends S3Object>(
  client: S3Client,
  bucket: string,
  plan: CommitPlan,
  objects: readonly T[],
  logger: Logger,
): Promise<{ removed: number; failed: Failure<T>[] }> {
  if (plan.mode === 'keep' || objects.length === 0) return { removed: objects.length, failed: [] };
  let doomed = objects;
  const failed: Failure<T>[] = [];
  if (plan.mode === 'move') {
    const copy = await copyAll(client, bucket, objects, plan.from, plan.to, logger);
    failed.push(...copy.failed);
    // Only what was copied is deleted: a failed copy leaves the original where it was.
    doomed = copy.copied;
  }
  failed.push(...(await deleteObjects(client, bucket, doomed, logger)));
  return { removed: objects.length - failed.length, failed };
}
