/** Who the client is: the socket's peer, or the address a trusted proxy's PROXY header gave. */
import { isIPv4 } from 'node:net';

export interface ClientAddress {
  readonly address: string;
  readonly port: number | undefined;
  /** The proxy that sent the PROXY header, when the address came from one. */
  readonly via?: string;
  /** What the PROXY header said (`v2 TCP4`, `v2 LOCAL`, `v1 UNKNOWN`), for the connect log line. */
  readonly proxied?: string;
}

/**
 * An IPv4 client of a dual-stack listener shows as `::ffff:a.b.c.d`: it is `a.b.c.d` for the
 * logs (fail2ban bans IPv4 addresses), per-address limits and penalties alike.
 */
export function plainAddress(address: string): string {
  const rest = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
  return rest !== undefined && isIPv4(rest) ? rest : address;
}
