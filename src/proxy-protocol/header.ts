/**
 * PROXY protocol v1 and v2 headers (haproxy.org/download/2.6/doc/proxy-protocol.txt), read from
 * the first octets of a connection, before anything else (TLS included) sees them.
 *
 * Written here rather than taken from npm: the parsers there (proxy-protocol-js 4.0.6,
 * @balena/proxy-protocol-parser 1.0.2, checked 2026-12) take one whole buffer and do not say
 * where the header ends (their v2 decoders ignore the length field, so TLVs and the client's
 * first bytes, e.g. a TLS ClientHello, run together), accept v1 addresses without checking
 * them, and cannot tell a header still arriving from a malformed one. This parser is
 * incremental (call it again with more octets), bounded (PROXY_V1_MAX_HEADER,
 * 16 + PROXY_V2_MAX_PAYLOAD) and strict; test/unit/proxy-header.property.test.ts fuzzes it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PROXY_V1_MAX_HEADER, PROXY_V2_MAX_PAYLOAD } from '../limits.js';

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * What the header announced, for the log: `TCP4`, `TCP6`, `LOCAL` (v2: the proxy's own
   * connection, e.g. a health check), `UNKNOWN` (v1), or a v2 family this gateway does not
   * serve (`UNSPEC`, `UDP4`, `UDP6`, `UNIX`, `UNIX-DGRAM`).
   */
  readonly kind: string;
  /**
   * The client as the proxy saw it (TCP4 and TCP6 only). Absent: the spec says to use the
   * connection's own endpoints, i.e. the proxy's address.
   */
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
  /** v2 type-length-value fields skipped (their structure was checked). */
  readonly tlvs: number;
}

export type ProxyParseResult =
  /** More octets are needed (never past the size bound). */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `length`: octets the header took; what follows is the client's own data. */
  | { readonly kind: 'complete'; readonly header: ProxyHeader; readonly length: number };

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;

/** The most octets a header can take: a reader never needs to hold more. */
export const PROXY_MAX_HEADER = Math.max(PROXY_V1_MAX_HEADER, V2_FIXED + PROXY_V2_MAX_PAYLOAD);

const INCOMPLETE: ProxyParseResult = { kind: 'incomplete' };

function invalid(reason: string): ProxyParseResult {
  return { kind: 'invalid', reason };
}

/** Parses the header at the start of `data` (all octets received so far). */
export function parseProxyHeader(data: Buffer): ProxyParseResult {
  if (data.length === 0) return INCOMPLETE;
  if (data[0] === V1_PREFIX[0]) return parseV1(data);
  if (data[0] === V2_SIGNATURE[0]) return parseV2(data);
  return invalid('no PROXY protocol header');
}

/** True when `data` is a prefix of `expected` or starts with all of it. */
function startsLike(data: Buffer, expected: Buffer): boolean {
  const n = Math.min(data.length, expected.length);
  return data.subarray(0, n).equals(expected.subarray(0, n));
}

// ---------------------------------------------------------------- v1: one text line

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function parseV1(data: Buffer): ProxyParseResult {
  if (!startsLike(data, V1_PREFIX)) return invalid('no PROXY protocol header');
  const limit = Math.min(data.length, PROXY_V1_MAX_HEADER);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const c = data[i] as number;
    if (c === 0x0d) {
      if (i + 2 > PROXY_V1_MAX_HEADER) return invalid('v1 header longer than 107 octets');
      if (i + 1 >= data.length) return INCOMPLETE;
      if (data[i + 1] !== 0x0a) return invalid('v1 header: CR without LF');
      end = i;
      break;
    }
    // Printable US-ASCII only: no LF alone, no NUL, no 8-bit octets.
    if (c < 0x20 || c > 0x7e) return invalid('v1 header: a control or 8-bit octet');
  }
  if (end < 0) return data.length >= PROXY_V1_MAX_HEADER ? invalid('v1 header longer than 107 octets') : INCOMPLETE;
  const length = end + 2;
  const fields = data.toString('latin1', 0, end).split(' ');
  const family = fields[1];
  // UNKNOWN: the proxy could not tell; the rest of the line is to be ignored.
  if (family === 'UNKNOWN') return { kind: 'complete', length, header: { version: 1, kind: 'UNKNOWN', tlvs: 0 } };
  if (family !== 'TCP4' && family !== 'TCP6') return invalid('v1 header: family is not TCP4, TCP6 or UNKNOWN');
  if (fields.length !== 6) return invalid('v1 header: not "PROXY family source destination sport dport"');
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const isAddress = family === 'TCP4' ? isIPv4 : (a: string): boolean => isIPv6(a) && !a.includes('%');
  if (!isAddress(src) || !isAddress(dst)) return invalid(`v1 header: an address is not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65_535 || Number(dport) > 65_535) return invalid('v1 header: a port is not 0..65535');
  return {
    kind: 'complete',
    length,
    header: {
      version: 1,
      kind: family,
      source: { address: src.toLowerCase(), port: Number(sport) },
      destination: { address: dst.toLowerCase(), port: Number(dport) },
      tlvs: 0,
    },
  };
}

// ---------------------------------------------------------------- v2: binary

/** Family and protocol octet -> (name, length of its address block). */
const V2_FAMILIES: ReadonlyMap<number, { readonly name: string; readonly addressLength: number }> = new Map([
  [0x00, { name: 'UNSPEC', addressLength: 0 }],
  [0x11, { name: 'TCP4', addressLength: 12 }],
  [0x12, { name: 'UDP4', addressLength: 12 }],
  [0x21, { name: 'TCP6', addressLength: 36 }],
  [0x22, { name: 'UDP6', addressLength: 36 }],
  [0x31, { name: 'UNIX', addressLength: 216 }],
  [0x32, { name: 'UNIX-DGRAM', addressLength: 216 }],
]);

function parseV2(data: Buffer): ProxyParseResult {
  if (!startsLike(data, V2_SIGNATURE)) return invalid('no PROXY protocol header');
  if (data.length < V2_FIXED) return INCOMPLETE;
  const versionCommand = data[12] as number;
  if (versionCommand >> 4 !== 2) return invalid('v2 header: version is not 2');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('v2 header: command is neither LOCAL nor PROXY');
  const family = V2_FAMILIES.get(data[13] as number);
  if (family === undefined) return invalid('v2 header: unknown address family or protocol');
  const payload = data.readUInt16BE(14);
  if (payload > PROXY_V2_MAX_PAYLOAD) return invalid(`v2 header: ${payload} octets of addresses and TLVs (limit ${PROXY_V2_MAX_PAYLOAD})`);
  const length = V2_FIXED + payload;
  if (data.length < length) return INCOMPLETE;
  // LOCAL: the proxy speaks for itself (health checks); the whole block is to be skipped.
  if (command === 0) return { kind: 'complete', length, header: { version: 2, kind: 'LOCAL', tlvs: 0 } };
  if (payload < family.addressLength) return invalid(`v2 header: ${family.name} needs ${family.addressLength} octets of addresses, got ${payload}`);
  const tlvs = countTlvs(data.subarray(V2_FIXED + family.addressLength, length));
  if (tlvs < 0) return invalid('v2 header: a TLV runs past the header');
  const at = V2_FIXED;
  if (family.name === 'TCP4') {
    return {
      kind: 'complete',
      length,
      header: {
        version: 2,
        kind: 'TCP4',
        source: { address: ipv4At(data, at), port: data.readUInt16BE(at + 8) },
        destination: { address: ipv4At(data, at + 4), port: data.readUInt16BE(at + 10) },
        tlvs,
      },
    };
  }
  if (family.name === 'TCP6') {
    return {
      kind: 'complete',
      length,
      header: {
        version: 2,
        kind: 'TCP6',
        source: { address: ipv6At(data, at), port: data.readUInt16BE(at + 32) },
        destination: { address: ipv6At(data, at + 16), port: data.readUInt16BE(at + 34) },
        tlvs,
      },
    };
  }
  // A valid family this gateway does not serve: the spec says to fall back to the connection's endpoints.
  return { kind: 'complete', length, header: { version: 2, kind: family.name, tlvs } };
}

/** Number of type-length-value fields filling `block` exactly, or -1 when one runs past it. */
function countTlvs(block: Buffer): number {
  let count = 0;
  for (let at = 0; at < block.length; count++) {
    if (at + 3 > block.length) return -1;
    at += 3 + block.readUInt16BE(at + 1);
    if (at > block.length) return -1;
  }
  return count;
}

function ipv4At(data: Buffer, at: number): string {
  return `${data[at] as number}.${data[at + 1] as number}.${data[at + 2] as number}.${data[at + 3] as number}`;
}

/**
 * RFC 5952 text of the 16 octets at `at` (the longest run of two or more zero groups as `::`),
 * with IPv4-mapped addresses as `::ffff:a.b.c.d`, as Node shows them in `remoteAddress`.
 */
export function ipv6At(data: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4At(data, at + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
