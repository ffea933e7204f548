/** The frame every page shares: head, header with who is signed in, and the form helpers. */
import { html, type Html } from '../html.js';

/** What every page needs to render links and forms. */
export interface PageContext {
  /** The pages' path prefix, ending in `/`: links are `${base}admin`. */
  readonly base: string;
  /** The CSRF token every form posts back. */
  readonly csrf: string;
  /** The signed-in user, if any. */
  readonly user: string | undefined;
  readonly admin: boolean;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}" />`;
}

/** A form with one button that POSTs (every change is a POST carrying the CSRF token). */
export function postButton(ctx: PageContext, action: string, label: string, fields: Readonly<Record<string, string>> = {}): Html {
  const hidden = Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);
  return html`<form class="inline" method="post" action="${ctx.base}${action}">${csrfField(ctx)}${hidden}<button type="submit">${label}</button></form>`;
}

export function page(ctx: PageContext, title: string, body: Html): string {
  const nav =
    ctx.user === undefined
      ? html``
      : html`<nav>
          <span>Signed in as <b id="signed-in-user">${ctx.user}</b></span
          ><a href="${ctx.base}">Account</a>${ctx.admin && html`<a href="${ctx.base}admin">All accounts</a>`}${postButton(ctx, 'signout', 'Sign out')}
        </nav>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · popgate</title>
        <link rel="stylesheet" href="${ctx.base}style.css" />
      </head>
      <body>
        <header><a href="${ctx.base}">popgate</a>${nav}</header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `.text;
}
