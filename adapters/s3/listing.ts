/**
 * The login snapshot: every object under the mailbox prefix (ListObjectsV2, all pages), in
 * delivery order (LastModified, then key), without what is not a message.
 */
import { paginateListObjectsV2, type S3Client, type _Object } from '@aws-sdk/client-s3';
import type { S3Object } from './objects.js';

/** Written by SES when a receipt rule with an S3 action is created: not a message. */
const SES_SETUP_NOTIFICATION = 'AMAZON_SES_SETUP_NOTIFICATION';

export interface Listing {
  readonly objects: S3Object[];
  readonly pages: number;
  /** Folder markers, empty objects and SES notices left out. */
  readonly skipped: number;
}

function isMessage(o: _Object, prefix: string): boolean {
  const key = o.Key;
  if (key === undefined || key.endsWith('/') || (o.Size ?? 0) === 0) return false;
  return key.slice(prefix.length) !== SES_SETUP_NOTIFICATION;
}

export async function listMailbox(client: S3Client, bucket: string, prefix: string, signal: AbortSignal, since?: Date): Promise<Listing> {
  // Times are needed only to sort: they stay out of the objects a session keeps (a Date is
  // ~70 octets; a mailbox of 100,000 objects would hold 7 MB of them).
  const found: { readonly obj: S3Object; readonly at: number }[] = [];
  const sinceMs = since?.getTime();
  let pages = 0;
  let skipped = 0;
  // No delimiter: keys in "sub-folders" of the prefix (date folders) are messages too.
  for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix })) {
    pages++;
    for (const o of page.Contents ?? []) {
      if (!isMessage(o, prefix)) {
        skipped++;
        continue;
      }
      const at = o.LastModified?.getTime() ?? 0;
      if (sinceMs !== undefined && at < sinceMs) continue;
      found.push({ obj: { key: o.Key as string, etag: o.ETag, stored: o.Size as number }, at });
    }
    // The paginator takes no abort signal: a client that left stops the listing between pages.
    signal.throwIfAborted();
  }
  // Stable sort: objects of the same second keep S3's key order (UTF-8 binary).
  found.sort((a, b) => a.at - b.at);
  return { objects: found.map((f) => f.obj), pages, skipped };
}
