/** Formatting of -ERR replies with RFC 2449 / RFC 3206 response codes. */
import type { Pop3Error } from '../errors.js';

export function formatErr(err: Pop3Error): string {
  return err.code === undefined ? `-ERR ${err.text}` : `-ERR [${err.code}] ${err.text}`;
}
