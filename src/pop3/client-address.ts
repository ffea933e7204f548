/** Who the client is: the socket's peer, or the address a trusted proxy's PROXY header gave. */
export interface ClientAddress {
  readonly address: string;
  readonly port: number | undefined;
  /** The proxy that sent the PROXY header, when the address came from one. */
  readonly via?: string;
  /** What the PROXY header said (`v2 TCP4`, `v2 LOCAL`, `v1 UNKNOWN`), for the connect log line. */
  readonly proxied?: string;
}
