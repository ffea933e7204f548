/** What the consent pages read and drive: the gateway hands these in, so the pages hold no gateway state. */
import type { UsersFile } from '../auth/users-file.js';
import type { Links } from '../identity/links.js';
import type { Logger } from '../logger.js';

export interface ConsentDeps {
  /** The running config's links API (a reload may replace it); undefined without a grants store. */
  links(): Links | undefined;
  /** Who may sign in (the file is re-read when it changes; a reload may name another). */
  users(): UsersFile;
  /** Users who may see and change every account's link. */
  admins(): ReadonlySet<string>;
  /** Origins of the providers' sign-in pages, where the link form may send the browser (the CSP's form-action). */
  providerOrigins(): readonly string[];
  readonly logger: Logger;
}

/** Settings fixed for the listener's life. */
export interface ConsentOptions {
  /** Served over HTTPS (here or at a proxy): cookies are `Secure`, HSTS is sent. */
  readonly secure: boolean;
  /** Session cookie keys (32 octets each), the first current. */
  readonly sessionKeys: readonly Buffer[];
  readonly sessionMinutes: number;
  readonly signInLimit: { readonly perAddress: number; readonly perName: number; readonly windowMinutes: number };
}
