/**
 * The S3 tenant's own settings (the gateway adds the settings every tenant has). Kept here so
 * the adapter's options sit next to the code that reads them.
 */
import { z } from 'zod';
import type { TenantSettings } from '../contract.js';
import { PLACEHOLDERS, templateProblem } from './prefix.js';

/** A key prefix template: `inbound/{domain}/{local}/`, or `` for a bucket that is one mailbox. */
const prefixTemplate = z.string().superRefine((t, ctx) => {
  const problem = templateProblem(t);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const s3TenantFields = {
  adapter: z.literal('s3'),
  bucket: z.string().min(1),
  region: z.string().min(1).default('us-east-1'),
  /** For MinIO, R2, Ceph and other S3-compatible servers, e.g. `https://minio.internal:9000`. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Path-style URLs (`endpoint/bucket/key`): MinIO and Ceph usually need it. */
  forcePathStyle: z.boolean().default(false),
  /** Static credentials; without them the SDK's default provider chain is used. Never logged. */
  credentials: z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().min(1).optional() }).optional(),
  /** Where each mailbox's objects are, with {user}, {local} and {domain}. */
  prefix: prefixTemplate,
  /** Users file (gateway-managed accounts: the bucket has no per-user passwords). */
  users: z.string().min(1),
  /** At QUIT: delete the objects, keep them, or copy them under another prefix and delete (`move:archive/{user}/`). */
  deleteMode: z
    .union([
      z.enum(['delete', 'keep']),
      z
        .string()
        .regex(/^move:.+$/, 'must be delete, keep or move:<prefix template>')
        .superRefine((m, ctx) => {
          const problem = templateProblem(m.slice('move:'.length));
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
    ])
    .default('delete'),
  /** TCP (and TLS) connection set-up to the S3 endpoint. */
  connectTimeoutMs: z.number().int().min(100).default(5000),
  /** One request's wait for the response headers; the body of a message then streams at the client's pace. */
  requestTimeoutMs: z.number().int().min(100).default(30_000),
  /** Attempts per request (the SDK's standard retry: throttling and 5xx answers, resets, refused connections). */
  maxAttempts: z.number().int().min(1).max(10).default(5),
  /**
   * Connections to the endpoint, shared by all the tenant's sessions. Each RETR or TOP holds one
   * while its client reads; size probes and read-ahead hold a few briefly. A request that finds
   * them all busy for connectTimeoutMs gets -ERR [SYS/TEMP].
   */
  maxSockets: z.number().int().min(1).max(65_536).default(256),
  /**
   * How a message larger than the 64 KiB probe gets its POP3 size: `exact` streams it once and
   * counts (what LIST says is what RETR sends); `probe` reads only its first 64 KiB and, when
   * they hold no bare LF, announces the stored size, which is wrong for an object with bare LFs
   * only further on (see README "S3").
   */
  sizes: z.enum(['exact', 'probe']).default('exact'),
  /**
   * Where exact sizes are kept across restarts (one folder per tenant) when the gateway has no
   * `redis`; none: memory only.
   */
  stateDir: z.string().min(1).optional(),
};

/**
 * An S3 bucket (AWS, MinIO, R2, Ceph) whose objects are raw messages. A move prefix that
 * overlaps the mailbox prefix passes here and is refused when the store is created.
 */
export const s3TenantSchema = z.strictObject(s3TenantFields);

/** The S3 settings a store reads: its own, and the tenant's `userName` rule (for prefixes). */
export type S3TenantConfig = z.output<typeof s3TenantSchema> & TenantSettings;

/** Placeholders a template may use (for messages). */
export const PLACEHOLDER_LIST = PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
