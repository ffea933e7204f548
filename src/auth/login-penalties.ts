/**
 * Brute-force control across connections, as Dovecot's auth_penalty and nginx mail's Auth-Wait
 * do it: every failed login adds to a count per client address and per login name; the count
 * decays with time (halved every `halfLifeSeconds`); n failures (the decayed count, rounded)
 * cost `baseMs * 2^(n-1)`, at most `maxMs`. An address with a penalty waits it out before its login is even checked (so guessing
 * from one address gets slower on every connection), and a failed login is answered no sooner
 * than `authFailureDelayMs` plus the larger of the two penalties (so guessing one name from many
 * addresses gets slower too). A good login is never held for its name's penalty, only for its
 * address's, and clears its address's count. The reply stays the same -ERR [AUTH] whatever failed.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { PENALTY_IPV6_PREFIX_GROUPS } from '../limits.js';
import type { Logger } from '../logger.js';
import { InMemoryPenaltyStore, type PenaltyStore } from './penalty-store.js';

export interface AuthPenaltyConfig {
  /** The penalty of one failure; 0 turns penalties off. */
  readonly baseMs: number;
  readonly maxMs: number;
  readonly halfLifeSeconds: number;
}

/** What a login from this address for this name owes before it is answered. */
export interface Standing {
  /** Waited before the check: the address has failed recently. */
  readonly addressMs: number;
  /** Added to the answer of a failure only: the name has failed recently (from anywhere). */
  readonly loginMs: number;
}

const NONE: Standing = { addressMs: 0, loginMs: 0 };

/**
 * The delay `failures` (decayed, so fractional) earn. Rounded: one failure keeps its penalty
 * for one half-life, instead of losing it the moment its count starts to decay.
 */
export function penaltyMs(failures: number, cfg: AuthPenaltyConfig): number {
  const n = Math.round(failures);
  if (n < 1 || cfg.baseMs <= 0) return 0;
  return Math.min(cfg.maxMs, cfg.baseMs * 2 ** (n - 1));
}

/**
 * The key of a client address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64, since one
 * subscriber has a whole /64 to pick addresses from.
 */
export function addressKey(address: string): string {
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(mapped) === 4) return `ip:${mapped}`;
  const groups = ipv6Groups(address);
  if (groups === undefined) return `ip:${address}`;
  return `ip6:${groups
    .slice(0, PENALTY_IPV6_PREFIX_GROUPS)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * The key of a login name: case-folded (backends mostly fold names) and hashed, so the store
 * holds a fixed-size key and no name a client made up.
 */
export function loginKey(login: string): string {
  return `login:${createHash('sha256').update(login.normalize('NFC').toLowerCase(), 'utf8').digest('base64url').slice(0, 22)}`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

export interface PenaltyStats {
  /** Records the store holds (undefined when it cannot tell). */
  readonly tracked: number | undefined;
  readonly failuresRecorded: number;
  /** Logins held before their check because their address had a penalty, and the time that cost them. */
  readonly loginsHeld: number;
  readonly heldMs: number;
  /** Store calls that failed: logins then went on without a penalty. */
  readonly storeErrors: number;
}

export class LoginPenalties {
  private failuresRecorded = 0;
  private loginsHeld = 0;
  private heldMs = 0;
  private storeErrors = 0;

  constructor(
    private readonly store: PenaltyStore = new InMemoryPenaltyStore(),
    private readonly logger?: Logger,
  ) {}

  /** The penalties a login from `address` for `login` carries now. A store failure counts as none. */
  async standing(address: string, login: string, cfg: AuthPenaltyConfig, now = Date.now()): Promise<Standing> {
    if (cfg.baseMs <= 0) return NONE;
    try {
      const [byAddress = 0, byLogin = 0] = await this.store.failures([addressKey(address), loginKey(login)], now, cfg.halfLifeSeconds * 1000);
      return { addressMs: penaltyMs(byAddress, cfg), loginMs: penaltyMs(byLogin, cfg) };
    } catch (err) {
      this.storeFailed(err);
      return NONE;
    }
  }

  async recordFailure(address: string, login: string, cfg: AuthPenaltyConfig, now = Date.now()): Promise<void> {
    if (cfg.baseMs <= 0) return;
    this.failuresRecorded++;
    try {
      await this.store.addFailure([addressKey(address), loginKey(login)], now, cfg.halfLifeSeconds * 1000);
    } catch (err) {
      this.storeFailed(err);
    }
  }

  /** A proven login: its address is trusted again (its name's count only decays). */
  async recordSuccess(address: string, cfg: AuthPenaltyConfig): Promise<void> {
    if (cfg.baseMs <= 0) return;
    try {
      await this.store.forget(addressKey(address));
    } catch (err) {
      this.storeFailed(err);
    }
  }

  /** Counts a login held `ms` for its address's penalty. */
  held(ms: number): void {
    this.loginsHeld++;
    this.heldMs += ms;
  }

  stats(): PenaltyStats {
    return {
      tracked: this.store.size,
      failuresRecorded: this.failuresRecorded,
      loginsHeld: this.loginsHeld,
      heldMs: this.heldMs,
      storeErrors: this.storeErrors,
    };
  }

  private storeFailed(err: unknown): void {
    this.storeErrors++;
    this.logger?.warn({ err: (err as Error).message }, 'login penalty store failed; going on without a penalty');
  }
}
