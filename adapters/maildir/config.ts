/**
 * The Maildir tenant's own settings (the gateway adds the settings every tenant has). Kept here
 * so the adapter's options sit next to the code that reads them.
 */
import { z } from 'zod';

export const maildirTenantSchema = z.strictObject({
  adapter: z.literal('maildir'),
  /** Path template of each user's Maildir; `{user}` is the backend user name. */
  path: z
    .string()
    .min(1)
    .refine((p) => p.includes('{user}'), 'must contain {user}'),
  /** Users file (gateway-managed accounts). */
  users: z.string().min(1),
  /** At QUIT: unlink, keep everything, or move to a Maildir++ folder (`move:.Trash`). */
  deleteMode: z
    .union([z.enum(['expunge', 'keep']), z.string().regex(/^move:\.[^/\\]+$/, 'must be expunge, keep or move:.<Maildir++ folder>, e.g. move:.Trash')])
    .default('expunge'),
});

export type MaildirTenantConfig = z.output<typeof maildirTenantSchema>;
