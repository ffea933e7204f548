/**
 * Which peers may send a PROXY header: the listener's `proxyProtocol.trusted` CIDR list
 * (`10.0.0.0/8`, `2001:db8::/32`, or one address). Anyone else could claim any client address.
 */
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** The CIDR, or why the text is not one. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0 || address.includes('%')) return `${JSON.stringify(text)} is not an IPv4 or IPv6 address or CIDR block`;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (slash < 0) return { address, prefix: max, family };
  const bits = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > max) return `${JSON.stringify(text)}: the prefix length must be 0..${max}`;
  return { address, prefix: Number(bits), family };
}

export class TrustedSources {
  private readonly list = new BlockList();

  /** `cidrs` were checked by the config schema; a bad one throws here. */
  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (typeof cidr === 'string') throw new Error(cidr);
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  /** True for an address in the list; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) matches IPv4 blocks. */
  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const version = isIP(address);
    if (version === 0) return false;
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
