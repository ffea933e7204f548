/**
 * What a proven login must hold before its maildrop opens: no LOGIN-DELAY pending, a slot under
 * the tenant's `maxConnections`, and the maildrop lock, taken in that order. A step that refuses
 * gives back what the earlier ones took.
 */
import { ErrorReplies, type Pop3Error } from '../errors.js';
import { combinedLease } from '../locks/tenant-sessions.js';
import type { MaildropLease } from '../locks/maildrop-locks.js';
import type { Tenant } from '../tenants.js';
import type { ServerContext } from './server-context.js';

export type Taken = { readonly lease: MaildropLease } | { readonly refused: Pop3Error; readonly outcome: string };

/** @throws SharedStateUnavailable when the shared state cannot be used (nothing is left held). */
export async function takeMaildrop(ctx: ServerContext, tenant: Tenant, lockKey: string, delaySeconds: number): Promise<Taken> {
  if (!(await ctx.loginDelay.allows(lockKey, delaySeconds))) return { refused: ErrorReplies.loginDelay, outcome: 'login-delay' };
  const slot = await ctx.tenantSessions.tryEnter(tenant.name, tenant.config.maxConnections);
  if (slot === null) return { refused: ErrorReplies.tenantBusy, outcome: 'tenant-max-connections' };
  try {
    const lock = await ctx.locks.acquire(lockKey);
    if (lock === null) {
      await slot.release();
      return { refused: ErrorReplies.inUse, outcome: 'in-use' };
    }
    return { lease: combinedLease(lock, slot) };
  } catch (err) {
    await slot.release();
    throw err;
  }
}
