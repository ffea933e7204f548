/**
 * One gateway account's link to a mailbox, as the grants store keeps it. The refresh token is
 * only ever stored sealed (keyring.ts); device passwords only as scrypt hashes.
 */
import { z } from 'zod';
import { isPasswordHash } from '../auth/password-hash.js';

/**
 * `linked`: the grant works. `needs-reconsent`: the provider refused it (revoked, password
 * changed, consent expired): the user must link the mailbox again. `revoked`: the user or an
 * operator unlinked it; the refresh token is gone.
 */
export const LINK_STATES = ['linked', 'needs-reconsent', 'revoked'] as const;
export type LinkState = (typeof LINK_STATES)[number];

const sealedSchema = z.strictObject({
  kid: z.string().regex(/^[0-9a-f]{16}$/),
  iv: z.string().min(1),
  data: z.string().min(1),
  tag: z.string().min(1),
});

const devicePasswordSchema = z.strictObject({
  /** Stable id (names may repeat or change). */
  id: z.string().regex(/^[a-z0-9]{8,32}$/),
  /** What the user called it: "office scanner". */
  name: z.string().min(1).max(100),
  hash: z.string().refine(isPasswordHash, 'must be a $scrypt$ hash'),
  /**
   * Four hex digits of SHA-256 of the password: picks the one hash to check among an account's
   * device passwords, so a login costs one scrypt however many there are. Generated passwords
   * carry 100 bits, so 16 bits said here leave the rest out of reach.
   */
  hint: z.string().regex(/^[0-9a-f]{4}$/),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().optional(),
});

export const grantRecordSchema = z.strictObject({
  /** The gateway account (the login name the tenant's users file or routing gives). */
  account: z.string().min(1),
  /** The identity provider's name in the config. */
  provider: z.string().min(1),
  /** The mailbox address the provider vouched for (the login user upstream). */
  address: z.string().min(1),
  /** The provider's stable id of the user (`sub`). */
  subject: z.string().min(1),
  scopes: z.array(z.string()),
  state: z.enum(LINK_STATES),
  /** Why the state is not `linked` (an OAuth error code, `revoked by ...`); never a token. */
  stateReason: z.string().optional(),
  /** Absent once revoked or refused. */
  refreshToken: sealedSchema.optional(),
  linkedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  devicePasswords: z.array(devicePasswordSchema).default([]),
});

export type GrantRecord = z.output<typeof grantRecordSchema>;
export type DevicePasswordRecord = GrantRecord['devicePasswords'][number];

/** What callers may show (pages, CLI, logs): the record without its sealed token and hashes. */
export interface LinkSummary {
  readonly account: string;
  readonly provider: string;
  readonly address: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly state: LinkState;
  readonly stateReason: string | undefined;
  readonly linkedAt: string;
  readonly updatedAt: string;
  readonly devicePasswords: readonly { readonly id: string; readonly name: string; readonly createdAt: string; readonly lastUsedAt: string | undefined }[];
}

export function summaryOf(r: GrantRecord): LinkSummary {
  return {
    account: r.account,
    provider: r.provider,
    address: r.address,
    subject: r.subject,
    scopes: [...r.scopes],
    state: r.state,
    stateReason: r.stateReason,
    linkedAt: r.linkedAt,
    updatedAt: r.updatedAt,
    devicePasswords: r.devicePasswords.map((d) => ({ id: d.id, name: d.name, createdAt: d.createdAt, lastUsedAt: d.lastUsedAt })),
  };
}
