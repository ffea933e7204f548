/** How a link's state reads on the pages. */
import type { LinkState, LinkSummary } from '../../identity/grant-record.js';
import { html, type Html } from '../html.js';

const LABELS: Readonly<Record<LinkState, string>> = { linked: 'linked', 'needs-reconsent': 'needs re-consent', revoked: 'revoked' };

export function stateLabel(link: LinkSummary | undefined): Html {
  if (link === undefined) return html`<span class="state-none">not linked</span>`;
  return html`<span class="state-${link.state}">${LABELS[link.state]}</span>`;
}
