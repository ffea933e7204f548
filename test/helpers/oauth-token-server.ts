/**
 * A token-introspection endpoint (RFC 7662 style) for Dovecot's oauth2 passdb: Dovecot POSTs
 * `token=...`; we answer from a map that tests can change at any time. Unknown or revoked tokens
 * get HTTP 200 `{"active": false}` (Dovecot treats 4xx bodies as data, see RECIPES-2).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServer {
  readonly port: number;
  /** token -> user name; delete an entry to revoke it. */
  readonly tokens: Map<string, string>;
  /** Dovecot config lines for an oauth2 passdb using this server. `dir` holds the .ext file. */
  dovecotConfig(extPath: string): { conf: string; ext: string };
  close(): Promise<void>;
}

export async function startTokenServer(): Promise<TokenServer> {
  const tokens = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const user = tokens.get(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(user === undefined ? { active: false } : { active: true, username: user, scope: 'mail' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    tokens,
    dovecotConfig(extPath) {
      return {
        conf: [
          'auth_mechanisms = plain login oauthbearer xoauth2',
          'passdb {',
          '  driver = oauth2',
          '  mechanisms = oauthbearer xoauth2',
          `  args = ${extPath}`,
          '}',
        ].join('\n'),
        ext: [
          `introspection_url = http://127.0.0.1:${port}/introspect`,
          'introspection_mode = post',
          'username_attribute = username',
          'active_attribute = active',
          'active_value = true',
          'timeout_msecs = 5000',
        ].join('\n'),
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
