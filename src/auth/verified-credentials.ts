/**
 * Recent successful password checks, so a device that logs in every few minutes costs one
 * scrypt hash, not one per login (as Dovecot's auth cache does): the hash is the dearest part of
 * a login (bench/README.md). Behind an interface so a shared store (Redis) can take the
 * in-process one's place: then a restart or another instance does not redo every hash.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AUTH_CACHE_ENTRIES, AUTH_CACHE_TTL_MS } from '../limits.js';

export interface VerifiedCredentials {
  /**
   * What a proof is stored under: an HMAC of the user, the password and the stored hash, so the
   * store holds no password, and a changed password or hash no longer matches. A store shared
   * between instances needs a key shared between them; this one's is random per process.
   */
  keyOf(user: string, password: string, storedHash: string): string;
  /** True when the proof is remembered. A store that fails answers false (the hash is then computed). */
  has(key: string): Promise<boolean>;
  remember(key: string): Promise<void>;
}

export class InMemoryVerifiedCredentials implements VerifiedCredentials {
  private readonly proofs = new LRUCache<string, true>({ max: AUTH_CACHE_ENTRIES, ttl: AUTH_CACHE_TTL_MS });

  constructor(private readonly hmacKey: Buffer = randomBytes(32)) {}

  keyOf(user: string, password: string, storedHash: string): string {
    return createHmac('sha256', this.hmacKey).update(`${user}\0${password}\0${storedHash}`).digest('base64');
  }

  async has(key: string): Promise<boolean> {
    return this.proofs.has(key);
  }

  async remember(key: string): Promise<void> {
    this.proofs.set(key, true);
  }

  get size(): number {
    return this.proofs.size;
  }
}

/** The process's own cache, used unless the gateway is given another. */
export const processVerifiedCredentials = new InMemoryVerifiedCredentials();
