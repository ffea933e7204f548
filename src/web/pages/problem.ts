/** A page that says what went wrong and where to go from here (never an internal message). */
import { html } from '../html.js';
import { page, type PageContext } from './layout.js';

export function problemPage(ctx: PageContext, title: string, message: string): string {
  return page(
    ctx,
    title,
    html`<p class="error" role="alert" id="problem">${message}</p>
      <p><a href="${ctx.base}">Back</a></p>`,
  );
}
