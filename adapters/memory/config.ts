/**
 * The memory tenant's own settings (the config schema adds `adapter: memory` and the settings
 * every tenant has). Messages come from the config itself or from a folder of .eml files, read
 * once when the store is made.
 */
import { z } from 'zod';

/** One configured message: its raw text, or base64 for octets YAML cannot carry (NULs, 8-bit); `id` is its UIDL. */
const messageSchema = z.union([
  z.string(),
  z.strictObject({
    raw: z.string(),
    id: z
      .string()
      .regex(/^[\x21-\x7e]{1,70}$/, '1-70 printable ASCII characters')
      .optional(),
  }),
  z.strictObject({
    base64: z.base64(),
    id: z
      .string()
      .regex(/^[\x21-\x7e]{1,70}$/, '1-70 printable ASCII characters')
      .optional(),
  }),
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

export const memoryTenantSchema = z.strictObject({ adapter: z.literal('memory'), ...memoryTenantFields });
export type MemoryTenantConfig = z.output<typeof memoryTenantSchema>;
