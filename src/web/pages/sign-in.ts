/** The sign-in form: one answer for an unknown user and a wrong password. */
import { html } from '../html.js';
import { csrfField, page, type PageContext } from './layout.js';

export function signInPage(ctx: PageContext, opts: { readonly name?: string; readonly problem?: string } = {}): string {
  return page(
    ctx,
    'Sign in',
    html`${opts.problem !== undefined && html`<p class="error" role="alert" id="problem">${opts.problem}</p>`}
      <form method="post" action="${ctx.base}signin">
        ${csrfField(ctx)}
        <label>User name <input name="name" autocomplete="username" required maxlength="256" value="${opts.name ?? ''}" /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="1024" /></label>
        <button type="submit">Sign in</button>
      </form>`,
  );
}
