/**
 * The adapter registry: every backend a tenant's `adapter:` can name, one line each. The config
 * schema, path resolution, auth modes and store creation in src/ all read this list, so adding
 * an adapter means adding its folder and its line here. Loading the registry loads only the
 * descriptors (settings schemas); each store and its client library load when a tenant needs it.
 */
import type { AdapterDescriptor } from './contract.js';
import { gmailAdapter } from './gmail/descriptor.js';
import { imapAdapter } from './imap/descriptor.js';
import { maildirAdapter } from './maildir/descriptor.js';
import { memoryAdapter } from './memory/descriptor.js';
import { restAdapter } from './rest/descriptor.js';
import { s3Adapter } from './s3/descriptor.js';

export const ADAPTERS = [maildirAdapter, imapAdapter, s3Adapter, gmailAdapter, restAdapter, memoryAdapter] as const;

/** Every `adapter:` name the config accepts. */
export type AdapterKind = (typeof ADAPTERS)[number]['kind'];

/** The descriptor of a kind the config schema accepted. */
export function adapterFor(kind: AdapterKind): AdapterDescriptor {
  const found: AdapterDescriptor | undefined = ADAPTERS.find((a) => a.kind === kind);
  if (found === undefined) throw new Error(`no adapter '${kind}' in the registry`);
  return found;
}
