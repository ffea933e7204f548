/** The adapter contract suite against the S3 adapter: s3rver behind the test proxy (per-key DeleteObjects refusals). */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, s3Tenant } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let s3: S3rver;
let proxy: S3Proxy;
/** Keys in seeding order. */
let keys: string[] = [];
let generation = 0;
/** LastModified of each new object, one second apart, so the listing order is the seeding order. */
let clock = Date.UTC(2020, 0, 1);

async function putInOrder(messages: readonly Buffer[]): Promise<string[]> {
  generation++;
  const batch = messages.map((body, i) => ({ key: `${ALICE_PREFIX}g${generation}-m${String(i).padStart(6, '0')}`, body }));
  if (batch.length <= 100) await s3.putMany(batch);
  else for (const o of batch) writeDirectly(o.key, o.body);
  for (const { key } of batch) s3.backdate(key, new Date((clock += 1000)));
  return batch.map((b) => b.key);
}

/**
 * Large mailboxes are written into s3rver's folder as it stores objects (`<key>._S3rver_object`
 * and its `.md5`; no metadata file is needed): 10,000 PutObjects through HTTP take a minute,
 * and what is tested is the gateway's listing and reading, not s3rver's uploads.
 */
function writeDirectly(key: string, body: Buffer): void {
  const segments = key.split('/');
  const last = segments.pop() as string;
  const folder = join(s3.dir, s3.bucket, ...segments);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${last}._S3rver_object`), body);
  writeFileSync(join(folder, `${last}._S3rver_object.md5`), createHash('md5').update(body).digest('hex'));
}

const fixture: ContractFixture = {
  name: 's3',
  login: { user: 'alice', password: 'alicepass' },
  gatewayUsers: { alice: { password: 'alicepass' } },
  deviations: { nulSentAs: 0x00 },
  async start() {
    s3 = await startS3rver();
    proxy = await startS3Proxy(s3.port);
  },
  async seed(messages) {
    // s3rver keeps objects as files: emptying the prefix's folder is the fast way to empty it.
    rmSync(join(s3.dir, s3.bucket, ...ALICE_PREFIX.split('/').filter((s) => s !== '')), { recursive: true, force: true });
    keys = await putInOrder(messages);
  },
  async contents() {
    const listed = new Set((await s3.list(ALICE_PREFIX)).map((o) => o.key));
    const out: Buffer[] = [];
    for (const key of keys) if (listed.has(key)) out.push((await s3.get(key)) as Buffer);
    return out;
  },
  tenant: ({ usersFile }) => s3Tenant(proxy.endpoint, usersFile, { deleteMode: 'delete' }),
  async removeBehind(index) {
    await s3.remove(keys[index] as string);
  },
  async addBehind(message) {
    keys.push(...(await putInOrder([message])));
  },
  // The proxy refuses that key inside the DeleteObjects answer (AccessDenied), as S3 reports per-key failures.
  async failDeletion(index) {
    const key = keys[index] as string;
    proxy.refuseDeletes((k) => k === key);
    return async () => proxy.refuseDeletes(undefined);
  },
  async stop() {
    await proxy?.stop();
    await s3?.stop();
  },
};

runContractSuite(fixture);
