/**
 * Content-MD5 on DeleteObjects. The API requires an integrity header on it; SDK releases since
 * 3.729.0 send only `x-amz-checksum-crc32` (even with `requestChecksumCalculation:
 * WHEN_REQUIRED`), which older MinIO and Ceph RGW refuse (aws-sdk-js-v3 #6819, #6920). This is
 * the fallback AWS documents (supplemental-docs/MD5_FALLBACK.md): a build-step middleware right
 * after the SDK's flexible-checksums one replaces its headers with Content-MD5 of the body.
 * AWS S3 and R2 accept Content-MD5 as they always did.
 */
import { createHash } from 'node:crypto';
import type { DeleteObjectsCommand } from '@aws-sdk/client-s3';

/** What this middleware reads of an SDK HttpRequest (at the build step it is one). */
interface OutgoingRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

function isOutgoingRequest(request: unknown): request is OutgoingRequest {
  return typeof request === 'object' && request !== null && typeof (request as { headers?: unknown }).headers === 'object';
}

/** The body as octets, when it is in memory (DeleteObjects' XML always is). */
function bodyOctets(body: unknown): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

function contentMd5<A extends { readonly request: unknown }, R>(next: (args: A) => Promise<R>): (args: A) => Promise<R> {
  return async (args) => {
    if (!isOutgoingRequest(args.request)) return next(args);
    const octets = bodyOctets(args.request.body);
    // A body we cannot hash keeps the SDK's own checksum rather than none.
    if (octets === undefined) return next(args);
    const headers = args.request.headers;
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (lower.startsWith('x-amz-checksum-') || lower.startsWith('x-amz-sdk-checksum-')) delete headers[name];
    }
    headers['content-md5'] = createHash('md5').update(octets).digest('base64');
    return next(args);
  };
}

/**
 * Adds the middleware to this command's own stack: the flexible-checksums middleware it follows
 * is a DeleteObjects plugin, absent from the client's stack and from other commands.
 */
export function withContentMd5(command: DeleteObjectsCommand): DeleteObjectsCommand {
  command.middlewareStack.addRelativeTo(contentMd5, {
    relation: 'after',
    toMiddleware: 'flexibleChecksumsMiddleware',
    name: 'popgateDeleteObjectsMd5',
    override: true,
  });
  return command;
}
