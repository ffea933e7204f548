/**
 * The memory tenant's own settings (the config schema adds `adapter: memory` and the settings
 * every tenant has). Messages come from the config itself or from a folder of .eml files, read
 * once when the store is made.
 */
import { z } from 'zod';

/** One configured message: its raw text, or base64 for octets YAML cannot carry (NULs, 8-bit); `id` is its UIDL. */
const messageSchema = z.union([
  z.string(),
  z.strictObject({ raw: z.string(), id: z.string().regex(/^[\x21-\x7e]{1,70}$/, '1-70 printable ASCII characters').optional() }),
  z.strictObject({ base64: z.base64(), id: z.string().regex(/^[\x21-\x7e]{1,70}$/, '1-70 printable ASCII characters').optional() }),
]);

const mailboxSchema = z.union([
  z.strictObject({ messages: z.array(messageSchema) }),
  /** Every `*.eml` file of the folder, in file-name order (relative to the config file). */
  z.strictObject({ folder: z.string().min(1) }),
]);

export const memoryTenantFields = {
  /** Users file (gateway-managed accounts). */
  users: z.string().min(1),
  /** Each user's initial mailbox, by backend user name; a user without one has an empty mailbox. */
  mailboxes: z.record(z.string().min(1), mailboxSchema).default({}),
  /** At QUIT: remove deleted messages from memory (`expunge`), or leave every message (`keep`, demos). */
  deleteMode: z.enum(['expunge', 'keep']).default('expunge'),
};

export type MemoryMessageConfig = z.infer<typeof messageSchema>;
export type MemoryMailboxConfig = z.infer<typeof mailboxSchema>;

/** What the store needs (the tenant config has more). */
export interface MemoryStoreConfig {
  readonly mailboxes: Readonly<Record<string, MemoryMailboxConfig>>;
  readonly deleteMode?: 'expunge' | 'keep';
}

/**
 * The adapter's registration in one object, shaped like the planned AdapterDescriptor (name,
 * its config fields, the paths to resolve, the auth mode and the store factory), so moving it
 * to the descriptor registry is one line.
 */
export const memoryAdapter = {
  name: 'memory',
  fields: memoryTenantFields,
  /** Config paths relative to the config file. */
  resolvePaths<T extends { users: string; mailboxes: Record<string, MemoryMailboxConfig> }>(t: T, abs: (p: string) => string): T {
    const mailboxes: Record<string, MemoryMailboxConfig> = {};
    for (const [user, box] of Object.entries(t.mailboxes)) mailboxes[user] = 'folder' in box ? { folder: abs(box.folder) } : box;
    return { ...t, users: abs(t.users), mailboxes };
  },
} as const;
