/** Linking: the provider choice, the hand-over to the provider, and the page the callback ends on. */
import type { LinkSummary } from '../../identity/grant-record.js';
import { html, type Html } from '../html.js';
import { csrfField, page, type PageContext } from './layout.js';

export function providerChoicePage(
  ctx: PageContext,
  opts: { readonly account: string; readonly forOther: boolean; readonly providers: readonly string[] },
): string {
  const buttons = opts.providers.map((p) => html`<button type="submit" name="provider" value="${p}">${p}</button> `);
  return page(
    ctx,
    'Link mailbox',
    html`<form method="post" action="${ctx.base}link">
      ${csrfField(ctx)} ${opts.forOther ? html`<p>For the account <b>${opts.account}</b>.</p>` : html``}<input
        type="hidden"
        name="account"
        value="${opts.account}"
      />
      <label>Device password to make once linked, for <input name="deviceName" maxlength="100" placeholder="office scanner" /> (leave empty for none)</label>
      <p>Choose the provider of the mailbox. It asks you to sign in and to allow popgate to read the mail; then you come back here.</p>
      <p>${opts.providers.length === 0 ? html`<span class="error">No identity provider with a redirectUrl is configured.</span>` : buttons}</p>
    </form>`,
  );
}

/** When the provider's sign-in page is on an origin the CSP does not list for forms: a plain link there. */
export function continuePage(ctx: PageContext, provider: string, url: URL): string {
  return page(ctx, 'Continue to the provider', html`<p><a id="continue" href="${url.href}">Continue to ${provider}</a> to sign in and allow access.</p>`);
}

export interface NewPassword {
  readonly name: string;
  readonly password: string;
}

export function newPasswordSection(account: string, device: NewPassword): Html {
  return html`<section class="secret">
    <h2>Device password for “<span id="device-name">${device.name}</span>”</h2>
    <p><code id="device-password">${device.password}</code></p>
    <p>Shown once: enter it in the device now, with the user name <b>${account}</b>. popgate keeps only a hash of it; if it is lost, make a new one.</p>
  </section>`;
}

export function linkedPage(ctx: PageContext, link: LinkSummary, opts: { readonly device?: NewPassword; readonly back: string }): string {
  return page(
    ctx,
    'Mailbox linked',
    html`<p>The mailbox <b id="linked-address">${link.address}</b> is linked to the account <b>${link.account}</b> through ${link.provider}.</p>
      ${opts.device !== undefined ? newPasswordSection(link.account, opts.device) : html`<p>The account's device passwords work with it.</p>`}
      <p><a href="${opts.back}">Back</a></p>`,
  );
}

export function newDevicePasswordPage(ctx: PageContext, account: string, device: NewPassword): string {
  return page(
    ctx,
    'New device password',
    html`${newPasswordSection(account, device)}
      <p><a href="${ctx.base}">Back to the account</a></p>`,
  );
}
