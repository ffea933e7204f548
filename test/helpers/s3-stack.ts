/** The usual S3 test set-up: s3rver holding some objects, the recording proxy, and a gateway on the proxy. */
import type { TestGateway } from './gateway.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';
import { startS3Gateway } from './s3-gateway.js';
import { startS3rver, type S3rver } from './s3rver.js';

export interface S3Stack {
  readonly s3: S3rver;
  readonly proxy: S3Proxy;
  readonly gw: TestGateway;
}

/** `fill` puts the objects before the gateway starts; the tenant keeps mail (deleteMode keep) unless told. */
export async function startS3Stack(fill: (s3: S3rver) => Promise<void>, tenant: Record<string, unknown> = { deleteMode: 'keep' }): Promise<S3Stack> {
  const parts: { s3?: S3rver; proxy?: S3Proxy; gw?: TestGateway } = {};
  try {
    const s3 = (parts.s3 = await startS3rver());
    await fill(s3);
    const proxy = (parts.proxy = await startS3Proxy(s3.port));
    const gw = (parts.gw = await startS3Gateway(proxy.endpoint, { tenant }));
    return { s3, proxy, gw };
  } catch (err) {
    // A half-started stack would leave s3rver running after the test file ends.
    await stopS3Stack(parts);
    throw err;
  }
}

/** Stops whatever of a stack was started (safe after a failed start). */
export async function stopS3Stack(parts: Partial<S3Stack>): Promise<void> {
  await parts.gw?.stop();
  await parts.proxy?.stop();
  await parts.s3?.stop();
}
