/**
 * A server (or a cache in front of it) that ignores Range and answers 200 with the whole object:
 * a read of the first 64 KiB holds 64 KiB, not the object; a read from an offset gets the
 * octets from that offset, not from 0; TOP, LIST and RETR through the gateway stay exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createS3Client } from '../../adapters/s3/client.js';
import { ObjectReader, type S3Object } from '../../adapters/s3/objects.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, s3TenantConfig, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

const MiB = 1024 * 1024;
/** 8 MiB of numbered LF lines: any offset can be checked. */
const BIG = Buffer.from(Array.from({ length: (8 * MiB) / 64 }, (_, i) => `line ${String(i).padStart(10, '0')} ${'x'.repeat(47)}\n`).join(''));
const HEADED = Buffer.concat([Buffer.from('Subject: big\nMessage-ID: <big@example.com>\n\n'), BIG]);

describe('S3 behind a server that ignores Range', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  let obj: S3Object;
  before(async () => {
    s3 = await startS3rver();
    await s3.put(`${ALICE_PREFIX}big`, HEADED);
    const listed = (await s3.list(ALICE_PREFIX))[0];
    assert.ok(listed);
    obj = { key: listed.key, etag: listed.etag, stored: listed.size };
    proxy = await startS3Proxy(s3.port);
    proxy.ignoreRange(true);
    gw = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep', sizes: 'probe' } });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  it('a read of the first 65,536 octets holds 65,536 octets, not the 8 MiB the server sends', async () => {
    const client = createS3Client(s3TenantConfig(proxy.endpoint), 600_000);
    try {
      proxy.clear();
      const head = await new ObjectReader(client, s3.bucket).read(obj, new AbortController().signal, { start: 0, end: 65_535 });
      assert.equal(head.length, 65_536);
      assert.ok(head.equals(HEADED.subarray(0, 65_536)));
      // The proxy forwarded it without the Range: s3rver answered 200 with all 8 MiB.
      assert.equal(proxy.requests[0]?.range, 'bytes=0-65535', 'asked for a range');
    } finally {
      client.destroy();
    }
  });

  it('a stream from an offset starts at that offset', async () => {
    const client = createS3Client(s3TenantConfig(proxy.endpoint), 600_000);
    try {
      const reader = new ObjectReader(client, s3.bucket);
      const signal = new AbortController().signal;
      const chunks: Buffer[] = [];
      for await (const c of await reader.open(obj, signal, { start: 1_000_001 })) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(HEADED.subarray(1_000_001)));
      const middle = await reader.read(obj, signal, { start: 5 * MiB + 3, end: 5 * MiB + 70_000 });
      assert.ok(middle.equals(HEADED.subarray(5 * MiB + 3, 5 * MiB + 70_001)));
    } finally {
      client.destroy();
    }
  });

  it('through the gateway: LIST (probe mode), TOP beyond the first range and RETR are exact', async () => {
    const c = await loggedIn(gw);
    // The probe saw bare LFs in its first 64 KiB (capped as asked), so the rest was counted.
    assert.deepEqual((await c.lines('LIST')).lines, [`1 ${expectedSize(HEADED)}`]);
    const top = await c.multiline('TOP 1 2000');
    const lines = expectedBody(HEADED).toString('latin1').split('\r\n');
    assert.equal(top.body.toString('latin1'), lines.slice(0, 3 + 2000).join('\r\n') + '\r\n');
    const r = await c.multiline('RETR 1', 60_000);
    assert.ok(r.body.equals(expectedBody(HEADED)));
    await c.quit();
  });
});
