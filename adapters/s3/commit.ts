/**
 * The UPDATE state: DeleteObjects in batches of 1,000 (each key's failure reported, the other
 * batches still tried), or a move (CopyObject under another prefix, then delete the copied
 * ones only), or keep. Never throws: every key not removed is in `failed` with a reason.
 */
import { CopyObjectCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { S3_COPY_CONCURRENCY, S3_DELETE_BATCH } from '../../src/limits.js';
import type { CommitResult } from '../contract.js';
import { mapLimit } from '../shared/map-limit.js';
import { withContentMd5 } from './content-md5.js';
import { describeS3Error } from './errors.js';
import type { S3Object } from './objects.js';

type Failure = { readonly id: string; readonly reason: string };

export type CommitPlan = { readonly mode: 'delete' } | { readonly mode: 'keep' } | { readonly mode: 'move'; readonly from: string; readonly to: string };

export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<Failure[]> {
  const failed: Failure[] = [];
  for (let i = 0; i < keys.length; i += S3_DELETE_BATCH) {
    const batch = keys.slice(i, i + S3_DELETE_BATCH);
    try {
      // Quiet: the answer lists only the keys that failed.
      const out = await client.send(withContentMd5(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
      for (const e of out.Errors ?? []) failed.push({ id: e.Key ?? '', reason: `${e.Code ?? 'Error'}: ${e.Message ?? ''}` });
    } catch (err) {
      const reason = describeS3Error(err);
      for (const key of batch) failed.push({ id: key, reason });
    }
  }
  return failed;
}

/** CopySource is `bucket/key`, URL-encoded (each path segment; the slashes stay). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function copyAll(client: S3Client, bucket: string, objects: readonly S3Object[], from: string, to: string, logger: Logger): Promise<{ copied: string[]; failed: Failure[] }> {
  const copied: string[] = [];
  const failed: Failure[] = [];
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
      copied.push(obj.key);
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey') {
        // Already removed by someone else: nothing is left to move, and nothing is lost by us.
        logger.warn({ key: obj.key }, 's3: a message to move was already gone');
        copied.push(obj.key);
      } else {
        failed.push({ id: obj.key, reason: `copy: ${describeS3Error(err)}` });
      }
    }
  });
  return { copied, failed };
}

export async function applyCommit(client: S3Client, bucket: string, plan: CommitPlan, objects: readonly S3Object[], logger: Logger): Promise<CommitResult> {
  if (plan.mode === 'keep' || objects.length === 0) return { removed: objects.length, failed: [] };
  let keys = objects.map((o) => o.key);
  const failed: Failure[] = [];
  if (plan.mode === 'move') {
    const copy = await copyAll(client, bucket, objects, plan.from, plan.to, logger);
    failed.push(...copy.failed);
    // Only what was copied is deleted: a failed copy leaves the original where it was.
    keys = copy.copied;
  }
  failed.push(...(await deleteKeys(client, bucket, keys)));
  return { removed: objects.length - failed.length, failed };
}
