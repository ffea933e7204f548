/**
 * The POP3 side of a link: a device password opens the account's linked mailbox. Every
 * refusal (no such account, wrong password, a link that is not usable) costs the same one
 * scrypt and gives the caller the same `undefined`, so a stranger learns nothing; the reason
 * goes to the log.
 */
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Logger } from '../logger.js';
import { matchDevicePassword } from './device-passwords.js';
import type { GrantStore } from './grant-store.js';

/** Last-use times are written at most this often per device password (not a file write per login). */
const LAST_USED_RESOLUTION_MS = 10 * 60_000;

export interface DeviceLogin {
  /** The linked mailbox address: the user name upstream. */
  readonly address: string;
  readonly devicePasswordId: string;
}

export class DeviceLogins {
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly store: GrantStore,
    private readonly logger: Logger,
  ) {}

  /**
   * The mailbox a device password opens, or undefined.
   * @throws HashBusy when too many password checks wait already; Error when the store is unreadable
   */
  async verify(account: string, password: string, provider: string, log: Logger): Promise<DeviceLogin | undefined> {
    const record = await this.store.get(account);
    const matched = await matchDevicePassword(record, password);
    if (record === undefined || matched === undefined) return undefined;
    if (record.provider !== provider) {
      log.info(
        { account: loggableName(account), linkedAt: record.provider, tenantProvider: provider },
        'identity: the account is linked at another provider than the tenant uses',
      );
      return undefined;
    }
    if (record.state !== 'linked') {
      log.warn(
        { account: loggableName(account), state: record.state, reason: record.stateReason },
        record.state === 'needs-reconsent'
          ? 'identity: right device password, but the link needs re-consent: the user must link the mailbox again on the consent page'
          : 'identity: right device password, but the link was revoked: the user must link the mailbox again',
      );
      return undefined;
    }
    this.noteUse(account, matched.id);
    return { address: record.address, devicePasswordId: matched.id };
  }

  private noteUse(account: string, id: string): void {
    const now = Date.now();
    const key = `${account}\0${id}`;
    if (now - (this.lastWritten.get(key) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastWritten.set(key, now);
    if (this.lastWritten.size > 100_000) this.lastWritten.clear();
    void this.store
      .update(account, (current) => {
        if (current === undefined || !current.devicePasswords.some((d) => d.id === id)) return current;
        const at = new Date(now).toISOString();
        return { ...current, devicePasswords: current.devicePasswords.map((d) => (d.id === id ? { ...d, lastUsedAt: at } : d)) };
      })
      .catch((err: unknown) =>
        this.logger.warn({ account: loggableName(account), err: (err as Error).message }, 'identity: cannot record when a device password was last used'),
      );
  }
}
