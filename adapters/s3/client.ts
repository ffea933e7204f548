/** One S3Client per tenant (its connection pool and retry budget are shared by all sessions). */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3TenantConfig } from './config.js';
import { addConnectionGate } from './connection-gate.js';

export function createS3Client(cfg: S3TenantConfig, sessionIdleMs: number): S3Client {
  const config: S3ClientConfig = {
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    // The SDK's standard strategy: exponential back-off with full jitter, a larger base delay
    // for throttling (SlowDown), and a per-client retry budget so an outage is not hammered.
    maxAttempts: cfg.maxAttempts,
    retryMode: 'standard',
    // Only where the API demands a checksum (DeleteObjects): S3-compatible servers (MinIO,
    // R2, Ceph, s3rver) do not all understand the newer default checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      // The SDK's default pool is 50 sockets per client; every RETR holds one for as long as its
      // POP3 client reads, so a busy tenant needs many more (maxSockets, default 256).
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: cfg.maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: cfg.maxSockets }),
      connectionTimeout: cfg.connectTimeoutMs,
      // Time to the response headers; throwOnRequestTimeout makes it a failure, not a warning.
      requestTimeout: cfg.requestTimeoutMs,
      throwOnRequestTimeout: true,
      // A message body is read at the POP3 client's pace: the S3 socket may be quiet for as long
      // as the client is (up to the POP3 idle timeout) without being a failure.
      socketTimeout: sessionIdleMs + 60_000,
    },
  };
  if (cfg.endpoint !== undefined) config.endpoint = cfg.endpoint;
  // Without static credentials the SDK's default chain applies (environment, shared files,
  // web identity, container and instance metadata).
  if (cfg.credentials !== undefined) config.credentials = { ...cfg.credentials };
  // The pinned SDK supports Node 20; its notice that later releases will not is for whoever
  // upgrades the pin, not for every gateway start-up (set the variable to 'false' to see it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client(config);
  // A request that finds every socket in use waits as long as a connect may take, then fails
  // clearly ([SYS/TEMP] and a log naming maxSockets) instead of queueing inside the agent.
  addConnectionGate(client, cfg.maxSockets, cfg.connectTimeoutMs);
  return client;
}
