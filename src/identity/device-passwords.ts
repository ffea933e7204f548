/**
 * Device passwords: what a POP3-only device types instead of the mailbox's real credentials.
 * Generated (never chosen), shown once, stored as scrypt hashes, several per account.
 *
 * A login costs one scrypt whatever happens: an unknown account, an account with no device
 * password matching the hint, and a wrong password all verify against a dummy hash, so neither
 * the reply nor its timing says whether an account exists or how many passwords it has.
 */
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../auth/password-hash.js';
import { AUTH_CACHE_ENTRIES, AUTH_CACHE_TTL_MS } from '../limits.js';
import type { DevicePasswordRecord, GrantRecord } from './grant-record.js';

/** 32 letters and digits without the look-alikes 0/o and 1/l: typed on a device keypad without doubt. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const GROUPS = 4;
const GROUP_LENGTH = 5;

/** A new device password: 20 characters (100 bits) in groups of five, `k7qmx-2vdpa-9fh3t-we6nz`. */
export function generateDevicePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** What is hashed: case, dashes and spaces are how a person typed it, not part of the secret. */
export function normaliseDevicePassword(typed: string): string {
  return typed.toLowerCase().replace(/[-\s]/g, '');
}

export function hintOf(normalised: string): string {
  return createHash('sha256').update(normalised, 'utf8').digest('hex').slice(0, 4);
}

export function newDevicePasswordId(): string {
  return randomBytes(8).toString('hex');
}

export async function devicePasswordRecord(plain: string, name: string, now = new Date()): Promise<DevicePasswordRecord> {
  const normalised = normaliseDevicePassword(plain);
  return { id: newDevicePasswordId(), name, hash: await hashPassword(normalised), hint: hintOf(normalised), createdAt: now.toISOString() };
}

/**
 * Recent successful checks, keyed by an HMAC under a per-process key (the cache holds no
 * password), as the users file's verifier does: scrypt is the dearest part of a login.
 */
const verifiedCache = new LRUCache<string, true>({ max: AUTH_CACHE_ENTRIES, ttl: AUTH_CACHE_TTL_MS });
const cacheKey = randomBytes(32);

/**
 * The device password of `record` that `typed` is, or undefined. Exactly one scrypt (or a cache
 * hit for a password proven minutes ago), whether or not the record exists.
 * @throws HashBusy when too many password checks wait already
 */
export async function matchDevicePassword(record: GrantRecord | undefined, typed: string): Promise<DevicePasswordRecord | undefined> {
  const normalised = normaliseDevicePassword(typed);
  const hint = hintOf(normalised);
  const candidates = record?.devicePasswords.filter((d) => d.hint === hint) ?? [];
  for (const candidate of candidates) {
    const key = createHmac('sha256', cacheKey)
      .update(`${record?.account ?? ''}\0${normalised}\0${candidate.hash}`)
      .digest('base64');
    if (verifiedCache.has(key)) return candidate;
  }
  // A 16-bit hint collides rarely; when it does, each candidate is checked (still no account is told apart by it).
  if (candidates.length === 0) {
    await verifyPassword(normalised, DUMMY_HASH);
    return undefined;
  }
  for (const candidate of candidates) {
    if (await verifyPassword(normalised, candidate.hash)) {
      verifiedCache.set(
        createHmac('sha256', cacheKey)
          .update(`${record?.account ?? ''}\0${normalised}\0${candidate.hash}`)
          .digest('base64'),
        true,
      );
      return candidate;
    }
  }
  return undefined;
}
