/**
 * A browser over fastify's inject(): keeps the cookies the pages set, follows nothing on its
 * own, and posts forms with the CSRF token of the last page it read (or one a test chooses).
 */
import type { FastifyInstance } from 'fastify';

export interface PageAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>;
  readonly body: string;
  /** The Location header, resolved against the page. */
  readonly location: string | undefined;
  /** Raw Set-Cookie lines. */
  readonly setCookies: readonly string[];
}

const CSRF_FIELD = /name="_csrf" value="([^"]+)"/;

export class InjectBrowser {
  private readonly jar = new Map<string, string>();
  /** The CSRF token on the last page read. */
  csrf: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    /** The client address the pages see (rate limits count per address). */
    private readonly remoteAddress = '127.0.0.1',
  ) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  async get(path: string): Promise<PageAnswer> {
    return this.request('GET', path);
  }

  /** POSTs a form; `_csrf` is the last page's token unless `csrf` says otherwise (null: none). */
  async post(path: string, fields: Readonly<Record<string, string>> = {}, csrf: string | null | undefined = this.csrf): Promise<PageAnswer> {
    const form = new URLSearchParams(fields);
    if (csrf !== null && csrf !== undefined) form.set('_csrf', csrf);
    return this.request('POST', path, form.toString());
  }

  async signIn(name: string, password: string): Promise<PageAnswer> {
    await this.get('/signin');
    return this.post('/signin', { name, password });
  }

  private async request(method: 'GET' | 'POST', path: string, payload?: string): Promise<PageAnswer> {
    const res = await this.app.inject({
      method,
      url: path,
      remoteAddress: this.remoteAddress,
      headers: {
        ...(this.jar.size > 0 && { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') }),
        ...(payload !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(payload !== undefined && { payload }),
    });
    const raw = res.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
    for (const line of setCookies) {
      const pair = line.split(';')[0] as string;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const token = CSRF_FIELD.exec(res.body)?.[1];
    if (token !== undefined) this.csrf = token;
    const location = res.headers.location;
    return { status: res.statusCode, headers: res.headers, body: res.body, location: typeof location === 'string' ? location : undefined, setCookies };
  }
}
