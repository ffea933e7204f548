/**
 * Property tests of the PROXY protocol parser, against an encoder written here from the spec:
 *  - a valid header (v1 TCP4/TCP6/UNKNOWN, v2 LOCAL/PROXY of every family, TLVs) followed by
 *    the client's data parses to exactly what was encoded, with its exact length, and every
 *    shorter prefix is "incomplete";
 *  - any octets (random, or a valid header mutated) never throw, never claim more than they
 *    have or more than the size bound, and are never "incomplete" past the bound;
 *  - the verdict on a prefix stands: once invalid or complete, more octets change nothing;
 *  - v2 IPv6 addresses come out as RFC 5952 text (checked against the WHATWG URL serializer).
 */
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PROXY_V1_MAX_HEADER, PROXY_V2_MAX_PAYLOAD } from '../../src/limits.js';
import { PROXY_MAX_HEADER, V2_SIGNATURE, ipv6At, parseProxyHeader, type ProxyParseResult } from '../../src/proxy-protocol/header.js';
import { chunked, cuts, propertyParams } from '../helpers/byte-arbitraries.js';

interface Endpoints {
  readonly src: Buffer;
  readonly dst: Buffer;
  readonly sport: number;
  readonly dport: number;
}

type Spec =
  | { readonly v: 1; readonly family: 'TCP4' | 'TCP6'; readonly ends: Endpoints }
  | { readonly v: 1; readonly family: 'UNKNOWN'; readonly junk: string }
  | { readonly v: 2; readonly command: 0 | 1; readonly fam: number; readonly addressBlock: Buffer; readonly tlvs: readonly Buffer[] };

function v4Text(b: Buffer): string {
  return [...b].join('.');
}

/** Full, uncompressed IPv6 text (8 groups of 4 hex digits): the form least like the parser's output. */
function v6Full(b: Buffer): string {
  return Array.from({ length: 8 }, (_, i) =>
    b
      .readUInt16BE(2 * i)
      .toString(16)
      .padStart(4, '0'),
  ).join(':');
}

function encode(spec: Spec): Buffer {
  if (spec.v === 1) {
    if (spec.family === 'UNKNOWN') return Buffer.from(`PROXY UNKNOWN${spec.junk === '' ? '' : ` ${spec.junk}`}\r\n`, 'latin1');
    const { src, dst, sport, dport } = spec.ends;
    const text = spec.family === 'TCP4' ? v4Text : v6Full;
    return Buffer.from(`PROXY ${spec.family} ${text(src)} ${text(dst)} ${sport} ${dport}\r\n`, 'latin1');
  }
  const tlvBytes = Buffer.concat(spec.tlvs);
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | spec.command;
  fixed[1] = spec.fam;
  fixed.writeUInt16BE(spec.addressBlock.length + tlvBytes.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, spec.addressBlock, tlvBytes]);
}

/** Bytes of an address, zeros over-represented (for `::` runs). */
const addressBytes = (n: number): fc.Arbitrary<Buffer> =>
  fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) }), { minLength: n, maxLength: n })
    .map((a) => Buffer.from(a));

const port = fc.integer({ min: 0, max: 65_535 });
const endpoints = (n: number): fc.Arbitrary<Endpoints> => fc.record({ src: addressBytes(n), dst: addressBytes(n), sport: port, dport: port });

function portsBlock(src: Buffer, dst: Buffer, sport: number, dport: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(sport, 0);
  p.writeUInt16BE(dport, 2);
  return Buffer.concat([src, dst, p]);
}

const tlv = fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) }).map(({ type, value }) => {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, Buffer.from(value)]);
});

const v2Spec: fc.Arbitrary<Spec> = fc
  .oneof(
    endpoints(4).map((e) => ({ fam: 0x11, block: portsBlock(e.src, e.dst, e.sport, e.dport) })),
    endpoints(16).map((e) => ({ fam: 0x21, block: portsBlock(e.src, e.dst, e.sport, e.dport) })),
    fc.constant({ fam: 0x00, block: Buffer.alloc(0) }),
    endpoints(4).map((e) => ({ fam: 0x12, block: portsBlock(e.src, e.dst, e.sport, e.dport) })),
    fc.uint8Array({ minLength: 216, maxLength: 216 }).map((a) => ({ fam: 0x31, block: Buffer.from(a) })),
  )
  .chain(({ fam, block }) =>
    fc.record({
      v: fc.constant(2 as const),
      command: fc.constantFrom(0 as const, 1 as const),
      fam: fc.constant(fam),
      addressBlock: fc.constant(block),
      tlvs: fc.array(tlv, { maxLength: 5 }),
    }),
  );

const spec: fc.Arbitrary<Spec> = fc.oneof(
  endpoints(4).map((ends) => ({ v: 1 as const, family: 'TCP4' as const, ends })),
  endpoints(16).map((ends) => ({ v: 1 as const, family: 'TCP6' as const, ends })),
  fc.string({ maxLength: 20 }).map((s) => ({ v: 1 as const, family: 'UNKNOWN' as const, junk: s.replace(/[^\x20-\x7e]/g, 'x') })),
  v2Spec,
);

/** What the parser must say about a whole encoded header. */
function expected(s: Spec): { kind: string; source?: { address: string; port: number }; tlvs: number } {
  const v6 = (b: Buffer): string => ipv6At(b, 0);
  if (s.v === 1) {
    if (s.family === 'UNKNOWN') return { kind: 'UNKNOWN', tlvs: 0 };
    const text = s.family === 'TCP4' ? v4Text : (b: Buffer): string => v6Full(b);
    return { kind: s.family, source: { address: text(s.ends.src), port: s.ends.sport }, tlvs: 0 };
  }
  if (s.command === 0) return { kind: 'LOCAL', tlvs: 0 };
  const names: Record<number, string> = { 0x00: 'UNSPEC', 0x11: 'TCP4', 0x12: 'UDP4', 0x21: 'TCP6', 0x31: 'UNIX' };
  const kind = names[s.fam] as string;
  const b = s.addressBlock;
  if (kind === 'TCP4') return { kind, source: { address: v4Text(b.subarray(0, 4)), port: b.readUInt16BE(8) }, tlvs: s.tlvs.length };
  if (kind === 'TCP6') return { kind, source: { address: v6(b.subarray(0, 16)), port: b.readUInt16BE(32) }, tlvs: s.tlvs.length };
  return { kind, tlvs: s.tlvs.length };
}

/** The same address, whatever its text form. */
function sameAddress(a: string, b: string): boolean {
  const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addAddress(a, family);
  return list.check(b, isIP(b) === 6 ? 'ipv6' : 'ipv4');
}

/** The invariants every result keeps, whatever the input. */
function checkBounds(data: Buffer, r: ProxyParseResult): void {
  if (r.kind === 'complete') {
    assert.ok(r.length <= data.length, `claims ${r.length} octets of ${data.length}`);
    assert.ok(r.length <= PROXY_MAX_HEADER, `a ${r.length}-octet header`);
    if (r.header.version === 1) assert.ok(r.length <= PROXY_V1_MAX_HEADER);
    for (const end of [r.header.source, r.header.destination]) {
      if (end === undefined) continue;
      assert.notEqual(isIP(end.address), 0, `not an address: ${end.address}`);
      assert.ok(Number.isInteger(end.port) && end.port >= 0 && end.port <= 65_535);
    }
  }
  if (r.kind === 'incomplete') assert.ok(data.length < PROXY_MAX_HEADER, `incomplete at ${data.length} octets`);
}

/** Every prefix, then the whole: each verdict bounded, and an invalid or complete verdict never changes. */
function checkPrefixes(data: Buffer, points: readonly number[]): ProxyParseResult {
  let settled: ProxyParseResult | undefined;
  let seen = Buffer.alloc(0);
  for (const chunk of chunked(data, points)) {
    seen = Buffer.concat([seen, chunk]);
    const r = parseProxyHeader(seen);
    checkBounds(seen, r);
    if (settled !== undefined) assert.deepEqual(r, settled, 'more octets changed a settled verdict');
    else if (r.kind !== 'incomplete') settled = r;
  }
  return parseProxyHeader(data);
}

describe('PROXY header parser properties', () => {
  it('a valid header and the data after it: parsed exactly, with its length; every shorter prefix is incomplete', () => {
    fc.assert(
      fc.property(spec, fc.uint8Array({ maxLength: 64 }), cuts, (s, after, points) => {
        const header = encode(s);
        const data = Buffer.concat([header, Buffer.from(after)]);
        for (const p of points) {
          const prefix = header.subarray(0, Math.abs(p) % header.length);
          assert.deepEqual(parseProxyHeader(prefix), { kind: 'incomplete' }, `prefix of ${prefix.length}/${header.length}`);
        }
        const r = checkPrefixes(data, points);
        assert.equal(r.kind, 'complete', r.kind === 'invalid' ? r.reason : 'incomplete');
        if (r.kind !== 'complete') return;
        assert.equal(r.length, header.length);
        const want = expected(s);
        assert.equal(r.header.kind, want.kind);
        assert.equal(r.header.version, s.v);
        assert.equal(r.header.tlvs, want.tlvs);
        if (want.source === undefined) assert.equal(r.header.source, undefined);
        else {
          assert.equal(r.header.source?.port, want.source.port);
          assert.ok(sameAddress(r.header.source?.address ?? '', want.source.address), `${r.header.source?.address} is not ${want.source.address}`);
        }
      }),
      propertyParams(1000),
    );
  });

  it('arbitrary octets (often starting like a header): no throw, bounded, verdicts stand', () => {
    const start = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from('PROXY '),
      Buffer.from('PROXY TCP4 '),
      Buffer.from('PROXY TCP6 '),
      V2_SIGNATURE,
      Buffer.concat([V2_SIGNATURE, Buffer.from([0x21])]),
    );
    fc.assert(
      fc.property(start, fc.uint8Array({ maxLength: 300 }), cuts, (head, tail, points) => {
        checkPrefixes(Buffer.concat([head, Buffer.from(tail)]), points);
      }),
      propertyParams(1000),
    );
  });

  it('a valid header with one octet changed, cut short or its v2 length altered: no throw, bounded, verdicts stand', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({ op: fc.constant('length' as const), at: fc.constant(0), value: fc.integer({ min: 0, max: 65_535 }) }),
    );
    fc.assert(
      fc.property(spec, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.uint8Array({ maxLength: 40 }), cuts, (s, mutations, after, points) => {
        let data = Buffer.concat([encode(s), Buffer.from(after)]);
        for (const m of mutations) {
          if (m.op === 'set' && data.length > 0) data[m.at % data.length] = m.value;
          if (m.op === 'cut') data = data.subarray(0, m.at % (data.length + 1));
          if (m.op === 'length' && s.v === 2 && data.length >= 16) data.writeUInt16BE(m.value, 14);
        }
        checkPrefixes(Buffer.from(data), points);
      }),
      propertyParams(1000),
    );
  });

  it('v2 IPv6 addresses: RFC 5952 text (as the WHATWG URL serializer writes it), IPv4-mapped ones as ::ffff:a.b.c.d', () => {
    fc.assert(
      fc.property(addressBytes(16), fc.boolean(), (bytes, mapped) => {
        if (mapped) {
          bytes.fill(0, 0, 10);
          bytes.writeUInt16BE(0xffff, 10);
        }
        const ours = ipv6At(bytes, 0);
        const full = v6Full(bytes);
        assert.ok(sameAddress(ours, full), `${ours} is not ${full}`);
        if (mapped) assert.equal(ours, `::ffff:${v4Text(bytes.subarray(12))}`);
        else assert.equal(`[${ours}]`, new URL(`http://[${full}]/`).hostname);
      }),
      propertyParams(1000),
    );
  });
});

describe('PROXY header parser examples', () => {
  const ok = (text: string | Buffer): ProxyParseResult => parseProxyHeader(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);

  it('HAProxy v1 lines, with the client data after them', () => {
    const r = ok('PROXY TCP4 127.0.0.5 127.0.0.1 40123 110\r\nCAPA\r\n');
    assert.equal(r.kind, 'complete');
    if (r.kind !== 'complete') return;
    assert.equal(r.length, 'PROXY TCP4 127.0.0.5 127.0.0.1 40123 110\r\n'.length);
    assert.deepEqual(r.header.source, { address: '127.0.0.5', port: 40123 });
    assert.deepEqual(r.header.destination, { address: '127.0.0.1', port: 110 });
    const six = ok('PROXY TCP6 2001:DB8::1 ::1 65535 995\r\n');
    assert.equal(six.kind === 'complete' && six.header.source?.address, '2001:db8::1');
    const longest = `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
    assert.equal(longest.length, 104, 'the longest TCP6 line fits the 107-octet bound');
    assert.equal(ok(longest).kind, 'complete');
    assert.deepEqual(ok('PROXY UNKNOWN whatever the proxy wrote\r\n'), { kind: 'complete', length: 40, header: { version: 1, kind: 'UNKNOWN', tlvs: 0 } });
  });

  it('malformed v1 lines are refused, a long one without waiting for its end', () => {
    for (const bad of [
      'PROXY TCP4 127.0.0.1 127.0.0.1 1 65536\r\n',
      'PROXY TCP4 127.0.0.1 127.0.0.1 01 2\r\n',
      'PROXY TCP4 127.0.0.01 127.0.0.1 1 2\r\n',
      'PROXY TCP4 ::1 127.0.0.1 1 2\r\n',
      'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n',
      'PROXY TCP4  127.0.0.1 127.0.0.1 1 2\r\n',
      'PROXY TCP4 127.0.0.1 127.0.0.1 1 2 3\r\n',
      'PROXY UDP4 127.0.0.1 127.0.0.1 1 2\r\n',
      'PROXY TCP4 127.0.0.1 127.0.0.1 1 2\n',
      'PROXY TCP4 127.0.0.1 127.0.0.1 1 2\rX',
      'PROXY \x00',
      'PROXX ',
      'USER alice\r\n',
      `PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_HEADER - 'PROXY UNKNOWN '.length)}`,
      `PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_HEADER - 'PROXY UNKNOWN '.length - 1)}\r\n`,
    ]) {
      assert.equal(ok(bad).kind, 'invalid', JSON.stringify(bad));
    }
    assert.equal(ok(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_HEADER - 'PROXY UNKNOWN '.length - 2)}\r\n`).kind, 'complete', 'exactly 107 octets is allowed');
  });

  it('HAProxy v2 health check (LOCAL, UNSPEC, no addresses) and a TCP4 header with TLVs', () => {
    const local = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    assert.deepEqual(ok(local), { kind: 'complete', length: 16, header: { version: 2, kind: 'LOCAL', tlvs: 0 } });
    const tlvs = Buffer.from([0x05, 0x00, 0x02, 0xab, 0xcd, 0x04, 0x00, 0x00]);
    const block = Buffer.from([127, 0, 0, 5, 127, 0, 0, 1, 0x9c, 0xbb, 0x00, 0x6e]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(block.length + tlvs.length);
    const r = ok(Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11]), len, block, tlvs, Buffer.from('\x16\x03\x01')]));
    assert.equal(r.kind, 'complete');
    if (r.kind !== 'complete') return;
    assert.equal(r.length, 16 + 20);
    assert.deepEqual(r.header, {
      version: 2,
      kind: 'TCP4',
      source: { address: '127.0.0.5', port: 40123 },
      destination: { address: '127.0.0.1', port: 110 },
      tlvs: 2,
    });
  });

  it('malformed v2 headers are refused; an over-long one as soon as its length field is in', () => {
    const head = (verCmd: number, fam: number, length: number): Buffer => {
      const b = Buffer.alloc(4);
      b[0] = verCmd;
      b[1] = fam;
      b.writeUInt16BE(length, 2);
      return Buffer.concat([V2_SIGNATURE, b]);
    };
    assert.equal(ok(head(0x11, 0x11, 12)).kind, 'invalid', 'version 1 in a v2 signature');
    assert.equal(ok(head(0x22, 0x11, 12)).kind, 'invalid', 'command 2');
    assert.equal(ok(head(0x21, 0x41, 12)).kind, 'invalid', 'family 4');
    assert.equal(ok(head(0x21, 0x13, 12)).kind, 'invalid', 'protocol 3');
    assert.equal(ok(Buffer.concat([head(0x21, 0x11, 8), Buffer.alloc(8)])).kind, 'invalid', 'TCP4 with 8 octets of addresses');
    assert.equal(ok(head(0x21, 0x11, PROXY_V2_MAX_PAYLOAD + 1)).kind, 'invalid', 'longer than the bound');
    assert.equal(ok(head(0x21, 0x11, PROXY_V2_MAX_PAYLOAD)).kind, 'incomplete', 'at the bound it waits for the rest');
    assert.equal(ok(Buffer.concat([head(0x21, 0x11, 14), Buffer.alloc(12), Buffer.from([0x01, 0x00])])).kind, 'invalid', 'a TLV cut short');
    assert.equal(ok(Buffer.concat([head(0x21, 0x11, 15), Buffer.alloc(12), Buffer.from([0x01, 0x00, 0x05])])).kind, 'invalid', 'a TLV longer than the header');
    assert.equal(ok(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01])).kind, 'invalid', 'a wrong signature octet');
  });
});
