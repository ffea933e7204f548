/**
 * Where grant records live. The local file store (file-grant-store.ts) is the default; a shared
 * store (Redis, for several gateways) implements the same interface. Every change goes through
 * update(), a read-modify-write that is atomic against other writers, so a refresh-token
 * rotation and a device password added meanwhile never overwrite each other.
 */
import type { GrantRecord } from './grant-record.js';

/** What a change returns: the new record, `undefined` to delete it, or the same object for no change. */
export type GrantChange = (current: GrantRecord | undefined) => GrantRecord | undefined;

export interface GrantStore {
  get(account: string): Promise<GrantRecord | undefined>;
  all(): Promise<GrantRecord[]>;
  /** Applies `change` to one account atomically; resolves the record as stored afterwards. */
  update(account: string, change: GrantChange): Promise<GrantRecord | undefined>;
  /** Applies `change` to every record in one atomic step (key rotation); resolves how many changed. */
  updateAll(change: (record: GrantRecord) => GrantRecord): Promise<number>;
  /** Start-up check: throws with a message naming the problem when the store cannot be used. */
  check(): Promise<void>;
  /** A warning about the store's exposure (file permissions), if any. */
  permissionWarning(): string | undefined;
}
