/** Every account's link state, for admins: revoke, link (again) for an account. */
import type { LinkSummary } from '../../identity/grant-record.js';
import { html } from '../html.js';
import { page, postButton, type PageContext } from './layout.js';
import { stateLabel } from './link-state.js';

export function adminPage(ctx: PageContext, links: readonly LinkSummary[], unlinkedUsers: readonly string[]): string {
  const linkRows = links.map(
    (l) =>
      html`<tr>
        <td>${l.account}</td>
        <td>${l.provider}</td>
        <td>${l.address}</td>
        <td>${stateLabel(l)}${l.stateReason !== undefined && html` (${l.stateReason})`}</td>
        <td>${l.devicePasswords.length}</td>
        <td>${l.updatedAt}</td>
        <td>
          <a href="${ctx.base}link?account=${encodeURIComponent(l.account)}">Link${l.state === 'linked' ? ' again' : ''}</a>
          ${l.state !== 'revoked' && postButton(ctx, 'admin/revoke', 'Revoke', { account: l.account })}
        </td>
      </tr>`,
  );
  const userRows = unlinkedUsers.map(
    (u) =>
      html`<tr>
        <td>${u}</td>
        <td></td>
        <td></td>
        <td>${stateLabel(undefined)}</td>
        <td>0</td>
        <td></td>
        <td><a href="${ctx.base}link?account=${encodeURIComponent(u)}">Link</a></td>
      </tr>`,
  );
  return page(
    ctx,
    'All accounts',
    html`<table id="accounts">
        <tr>
          <th>Account</th>
          <th>Provider</th>
          <th>Mailbox</th>
          <th>State</th>
          <th>Device passwords</th>
          <th>Changed</th>
          <th></th>
        </tr>
        ${linkRows}${userRows}
      </table>
      <form method="get" action="${ctx.base}link">
        <label>Link a mailbox for the account <input name="account" required maxlength="256" /></label><button type="submit">Start</button>
      </form>`,
  );
}
