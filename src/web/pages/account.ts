/** One account's page: its mailbox link (state, re-consent, revoke) and its device passwords. */
import type { LinkSummary } from '../../identity/grant-record.js';
import { html, type Html } from '../html.js';
import { csrfField, page, postButton, type PageContext } from './layout.js';
import { stateLabel } from './link-state.js';

function linkSection(ctx: PageContext, account: string, link: LinkSummary | undefined): Html {
  if (link === undefined) {
    return html`<p>No mailbox is linked to the account <b>${account}</b> yet.</p>
      <p><a id="link-mailbox" href="${ctx.base}link">Link mailbox</a></p>`;
  }
  const table = html`<table>
    <tr>
      <th>Mailbox</th>
      <td id="link-address">${link.address}</td>
    </tr>
    <tr>
      <th>Provider</th>
      <td>${link.provider}</td>
    </tr>
    <tr>
      <th>State</th>
      <td id="link-state">${stateLabel(link)}${link.stateReason !== undefined && html` (${link.stateReason})`}</td>
    </tr>
    <tr>
      <th>Linked</th>
      <td>${link.linkedAt}</td>
    </tr>
  </table>`;
  switch (link.state) {
    case 'linked':
      return html`${table}
        <p>${postButton(ctx, 'revoke', 'Revoke this link')} <a href="${ctx.base}link">Link another mailbox</a></p>`;
    case 'needs-reconsent':
      return html`${table}
        <p class="warn">
          The provider no longer accepts this grant (access revoked, password changed or consent expired). Devices cannot log in until you give consent again;
          their device passwords stay valid.
        </p>
        <p>${postButton(ctx, 'link', 'Re-consent', { provider: link.provider, reconsent: '1' })} ${postButton(ctx, 'revoke', 'Revoke this link')}</p>`;
    case 'revoked':
      return html`${table}
        <p><a id="link-mailbox" href="${ctx.base}link">Link mailbox</a></p>`;
  }
}

function devicesSection(ctx: PageContext, link: LinkSummary | undefined): Html {
  if (link === undefined) return html`<p>Device passwords can be made once a mailbox is linked.</p>`;
  const rows = link.devicePasswords.map(
    (d) =>
      html`<tr>
        <td>${d.name}</td>
        <td>${d.createdAt}</td>
        <td>${d.lastUsedAt ?? 'never'}</td>
        <td>${postButton(ctx, 'devices/remove', 'Remove', { id: d.id })}</td>
      </tr>`,
  );
  return html`${
      rows.length === 0
        ? html`<p>No device passwords.</p>`
        : html`<table id="device-passwords">
            <tr>
              <th>Name</th>
              <th>Made</th>
              <th>Last used</th>
              <th></th>
            </tr>
            ${rows}
          </table>`
    }
    <form method="post" action="${ctx.base}devices">
      ${csrfField(ctx)}<label>New device password, for <input name="name" required maxlength="100" placeholder="office scanner" /></label
      ><button type="submit">Make device password</button>
    </form>`;
}

export function accountPage(ctx: PageContext, account: string, link: LinkSummary | undefined): string {
  return page(
    ctx,
    `Account ${account}`,
    html`<h2>Mailbox</h2>
      ${linkSection(ctx, account, link)}
      <h2>Device passwords</h2>
      <p>
        A device (scanner, old phone) logs in to popgate with the user name <b>${account}</b> and one of these passwords; popgate opens the mailbox with the
        grant above.
      </p>
      ${devicesSection(ctx, link)}`,
  );
}
