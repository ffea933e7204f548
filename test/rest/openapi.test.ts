/**
 * The reference store against its document: every answer it gives, for each operation and its
 * failures, is checked against adapters/rest/openapi.yaml (status documented, JSON bodies valid
 * against the response schema with ajv's JSON Schema 2020-12, headers as described).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { startRestStore, type Operation, type RestStoreServer } from '../helpers/rest-store.js';

const DOC_PATH = fileURLToPath(new URL('../../../adapters/rest/openapi.yaml', import.meta.url));
// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface Ref {
  readonly $ref?: string;
}
interface Response extends Ref {
  readonly headers?: Record<string, unknown>;
  readonly content?: Record<string, { readonly schema?: Ref }>;
}
interface OpenApi {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, { readonly operationId?: string; readonly responses: Record<string, Response> }>>;
  readonly components: { readonly responses: Record<string, Response> };
}

const OPS: Record<Operation, { path: string; method: string }> = {
  list: { path: '/mailboxes/{mailbox}/messages', method: 'get' },
  get: { path: '/mailboxes/{mailbox}/messages/{id}', method: 'get' },
  delete: { path: '/mailboxes/{mailbox}/messages:delete', method: 'post' },
  move: { path: '/mailboxes/{mailbox}/messages:move', method: 'post' },
};

describe('the reference REST store follows openapi.yaml', () => {
  const doc = parse(readFileSync(DOC_PATH, 'utf8')) as OpenApi;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi');
  const validators = new Map<string, ValidateFunction>();
  let store: RestStoreServer;
  const auth = { authorization: 'Bearer t0k' };

  function responseFor(op: Operation, status: number): Response | undefined {
    const o = doc.paths[OPS[op].path]?.[OPS[op].method];
    assert.ok(o !== undefined, `${op} is in the document`);
    const r = o.responses[String(status)] ?? o.responses.default;
    if (r?.$ref === undefined) return r;
    return doc.components.responses[r.$ref.split('/').pop() as string];
  }

  function validatorFor(ref: string): ValidateFunction {
    let v = validators.get(ref);
    if (v === undefined) validators.set(ref, (v = ajv.compile({ $ref: `openapi${ref}` })));
    return v;
  }

  before(async () => {
    store = await startRestStore({ auth: { kind: 'bearer', token: 't0k' }, sizes: true, etags: true, maxPage: 2 });
    store.seed('alice', [Buffer.from('Subject: a\n\none\n'), Buffer.from('Subject: b\r\n\r\ntwo\r\n'), Buffer.from('Subject: c\n\nthree\n')]);
  });
  after(() => store.stop());

  const call = (path: string, init: RequestInit = {}): Promise<globalThis.Response> =>
    fetch(`${store.baseUrl}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });

  it('the document is OpenAPI 3.1 and every operation the adapter uses is in it', () => {
    assert.match(doc.openapi, /^3\.1\./);
    for (const op of Object.values(OPS)) assert.ok(doc.paths[op.path]?.[op.method], `${op.method} ${op.path}`);
  });

  it('exercises every operation, its successes and its failures', async () => {
    // list: pages (the store caps them at 2), 401, 404, 429 with Retry-After, 503.
    const p1 = (await (await call('/mailboxes/alice/messages?limit=10')).json()) as { nextCursor: string };
    assert.equal(typeof p1.nextCursor, 'string');
    const p2 = (await (await call(`/mailboxes/alice/messages?limit=10&cursor=${p1.nextCursor}`)).json()) as { nextCursor: unknown };
    assert.equal(p2.nextCursor, null);
    assert.equal((await call('/mailboxes/alice/messages', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await call('/mailboxes/nobody/messages')).status, 404);
    store.fail(429, { retryAfter: '1' });
    const throttled = await call('/mailboxes/alice/messages');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '1');
    store.fail(503, { retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' });
    assert.equal((await call('/mailboxes/alice/messages')).status, 503);
    // get: whole, range, range past the end, gone, changed, Range ignored.
    const [m1, m2] = store.mailboxes.get('alice') as { id: string; raw: Buffer }[];
    const whole = await call(`/mailboxes/alice/messages/${m1?.id}`);
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(m1?.raw as Buffer));
    const part = await call(`/mailboxes/alice/messages/${m1?.id}`, { headers: { range: 'bytes=0-4' } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'Subje');
    assert.equal((await call(`/mailboxes/alice/messages/${m1?.id}`, { headers: { range: 'bytes=9999-' } })).status, 416);
    assert.equal((await call('/mailboxes/alice/messages/nope')).status, 404);
    assert.equal((await call(`/mailboxes/alice/messages/${m1?.id}`, { headers: { 'if-match': '"other"' } })).status, 412);
    store.ignoreRange = true;
    assert.equal((await call(`/mailboxes/alice/messages/${m1?.id}`, { headers: { range: 'bytes=0-4' } })).status, 200);
    store.ignoreRange = false;
    // delete and move: per-id results, refusals, not_found, bad requests, 401, 503.
    store.refuse.set(m2?.id as string, 'held by policy');
    const json = { 'content-type': 'application/json' };
    const del = await call('/mailboxes/alice/messages:delete', { method: 'POST', headers: json, body: JSON.stringify({ ids: [m1?.id, m2?.id, 'gone'] }) });
    assert.deepEqual(
      ((await del.json()) as { results: { status: string }[] }).results.map((r) => r.status),
      ['deleted', 'error', 'not_found'],
    );
    assert.equal((await call('/mailboxes/alice/messages:delete', { method: 'POST', headers: json, body: '{"ids":[]}' })).status, 400);
    store.fail(503, { op: 'delete', retryAfter: '0' });
    assert.equal((await call('/mailboxes/alice/messages:delete', { method: 'POST', headers: json, body: '{"ids":["x"]}' })).status, 503);
    store.refuse.clear();
    const move = await call('/mailboxes/alice/messages:move', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ids: [m2?.id], destination: 'archive' }),
    });
    assert.deepEqual(
      ((await move.json()) as { results: { status: string }[] }).results.map((r) => r.status),
      ['moved'],
    );
    assert.equal((await call('/mailboxes/alice/messages:move', { method: 'POST', headers: json, body: '{"ids":["x"]}' })).status, 400);
    assert.equal((await call('/mailboxes/alice/messages:move', { method: 'POST', headers: { ...json, authorization: 'Basic eDp5' }, body: '{}' })).status, 401);
  });

  it('every answer given above is documented, and its body and headers are as the document says', () => {
    assert.ok(store.responses.length >= 15, `${store.responses.length} answers recorded`);
    const seen = new Set<string>();
    for (const r of store.responses) {
      const what = `${r.op} ${r.status}`;
      seen.add(what);
      const doc = responseFor(r.op, r.status);
      assert.ok(doc !== undefined, `${what} is documented`);
      const types = Object.keys(doc.content ?? {});
      const type = String(r.headers['content-type']);
      assert.ok(types.includes(type), `${what}: content type ${type} is one of ${types.join(', ')}`);
      if (r.status === 429 || r.status === 503) assert.ok(r.headers['retry-after'] !== undefined, `${what} carries Retry-After`);
      if (r.status === 206) assert.match(String(r.headers['content-range']), /^bytes \d+-\d+\/\d+$/);
      if (r.json === undefined) continue;
      const ref = (doc.content?.[type]?.schema as Ref).$ref as string;
      const v = validatorFor(ref);
      assert.ok(v(r.json), `${what}: ${JSON.stringify(r.json)} against ${ref}: ${ajv.errorsText(v.errors)}`);
    }
    for (const must of [
      'list 200',
      'list 401',
      'list 404',
      'list 429',
      'list 503',
      'get 200',
      'get 206',
      'get 404',
      'get 412',
      'get 416',
      'delete 200',
      'delete 400',
      'delete 503',
      'move 200',
      'move 401',
    ]) {
      assert.ok(seen.has(must), `${must} was exercised`);
    }
  });

  it('an invalid answer fails the check (the validators can fail)', () => {
    const v = validatorFor('#/components/schemas/MessagePage');
    assert.equal(v({ items: [{ id: '', size: -1, received: 'yesterday' }] }), false);
    assert.equal(validatorFor('#/components/schemas/BatchResult')({ results: [{ id: 'x', status: 'gone' }] }), false);
  });
});
