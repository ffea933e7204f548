/** Thrown inside a command when the socket is gone; ends the session without a reply. */
export class ConnectionClosed extends Error {
  override readonly name = 'ConnectionClosed';
}
