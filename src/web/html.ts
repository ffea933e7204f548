/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is Html built
 * here already, so a name like `<script>` is shown, never run. There is no other way to make Html.
 */

const BRAND = Symbol('html');

export interface Html {
  readonly [BRAND]: true;
  readonly text: string;
}

/** What a template may interpolate: text (escaped), numbers, Html, lists of those; nothing for undefined, null or false. */
export type HtmlValue = string | number | Html | undefined | null | false | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text as it may stand in an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && (value as Partial<Html>)[BRAND] === true;
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeHtml(value);
  if (isHtml(value)) return value.text;
  return value.map(render).join('');
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let text = strings[0] as string;
  values.forEach((value, i) => {
    text += render(value) + (strings[i + 1] as string);
  });
  return { [BRAND]: true, text };
}
