/**
 * The streaming decoder of Gmail's `raw` field, at arbitrary chunkings of the JSON text,
 * against the obvious reference (JSON.parse, then Buffer.from(base64url)): any octets, padded
 * or not, with decoy `raw` keys nested in other values and escapes in the other strings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Base64FieldStream } from '../../adapters/shared/json-base64-field.js';
import { chunked, cuts, propertyParams } from '../helpers/byte-arbitraries.js';

function decodeStreaming(json: Buffer, points: readonly number[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = new Base64FieldStream('raw');
    const out: Buffer[] = [];
    stream.on('data', (b: Buffer) => out.push(b));
    stream.on('end', () => resolve(Buffer.concat(out)));
    stream.on('error', reject);
    for (const chunk of chunked(json, points)) stream.write(chunk);
    stream.end();
  });
}

const message = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('Base64FieldStream (Gmail raw) properties', () => {
  it('decodes exactly the top-level raw field, padded or not, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.boolean(), fc.boolean(), fc.string({ maxLength: 20 }), cuts, async (raw, padded, decoyFirst, label, points) => {
        const b64 = raw.toString('base64url');
        const value = padded ? b64 + '='.repeat((4 - (b64.length % 4)) % 4) : b64;
        const decoy = { payload: { raw: 'QUFBQQ', note: label }, labelIds: ['INBOX', label] };
        const object = decoyFirst ? { ...decoy, raw: value, sizeEstimate: raw.length } : { id: 'x', raw: value, ...decoy };
        const json = Buffer.from(JSON.stringify(object), 'utf8');
        const got = await decodeStreaming(json, points);
        assert.ok(got.equals(raw), `decoded ${got.length} octets, expected ${raw.length}`);
      }),
      propertyParams(300),
    );
  });

  it('refuses a response without the field, or one cut short', async () => {
    await assert.rejects(decodeStreaming(Buffer.from('{"id":"x","payload":{"raw":"QUFB"}}'), []), /no "raw"/);
    await assert.rejects(decodeStreaming(Buffer.from('{"id":"x","raw":"QUFB'), []), /ended early/);
  });
});
