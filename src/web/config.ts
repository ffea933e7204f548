/**
 * `identity.web`: the consent pages' own HTTP(S) listener, who may sign in to them and how their
 * sessions are kept. Validated with no I/O; the files it names are read when the gateway starts
 * (src/web/resources.ts).
 */
import { z } from 'zod';

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}

/** The callback path below `publicUrl`: each provider's `redirectUrl` must be `<publicUrl>link/callback`. */
export const CALLBACK_PATH = 'link/callback';

const signInLimitSchema = z.strictObject({
  /** Sign-in attempts from one client address per window. */
  perAddress: z.number().int().min(1).max(10_000).default(20),
  /** Sign-in attempts for one user name per window, from anywhere. */
  perName: z.number().int().min(1).max(10_000).default(10),
  windowMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
});

export const webSchema = z
  .strictObject({
    /** Where the pages listen: loopback unless an operator says otherwise. */
    listen: z.strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535),
    }),
    /** Serve HTTPS with this certificate (PEM files). */
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /**
     * The address browsers use to reach the pages (a reverse proxy's, if there is one), ending in
     * `/`; its path is the pages' prefix. Default: `http(s)://<listen.host>:<listen.port>/`.
     */
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => new URL(u).search === '' && new URL(u).hash === '', 'takes no query or fragment')
      .transform((u) => (u.endsWith('/') ? u : `${u}/`))
      .optional(),
    /** The users file (the format of `popgate user add`) whose users may sign in: each manages the account of its name. */
    users: z.string().min(1),
    /** Users of that file who may see every account's link and link or revoke for any account. */
    admins: z.array(z.string().min(1)).default([]),
    /**
     * Keys that encrypt the session cookies: base64 keys of 32 octets, one per line, the first
     * current (as the grants key file; `popgate keys generate`). Without it, a random key per
     * start: a restart signs everybody out.
     */
    sessionKeyFile: z.string().min(1).optional(),
    /** A session ends this long after sign-in, and after this long without a page changing it. */
    sessionMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    /** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); the sign-in limit counts the client behind them. */
    trustedProxies: z.array(z.string().min(1)).default([]),
    signInLimit: signInLimitSchema.default(signInLimitSchema.parse({})),
  })
  .superRefine((web, ctx) => {
    const httpsPublic = web.publicUrl?.startsWith('https://') === true;
    if (!isLoopbackHost(web.listen.host) && web.tls === undefined && !httpsPublic) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen', 'host'],
        message: `'${web.listen.host}' is not a loopback address: set tls (HTTPS here) or an https:// publicUrl (a TLS proxy in front), or passwords cross the network in clear`,
      });
    }
    if (web.publicUrl?.startsWith('http://') === true && !isLoopbackHost(new URL(web.publicUrl).hostname)) {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'must be https:// (http:// only for a loopback host)' });
    }
  });

export type WebConfig = z.output<typeof webSchema>;

/** The pages' public address, ending in `/`: `publicUrl`, or what `listen` and `tls` give. */
export function publicUrlOf(web: WebConfig, boundPort = web.listen.port): URL {
  if (web.publicUrl !== undefined) return new URL(web.publicUrl);
  const host = web.listen.host.includes(':') && !web.listen.host.startsWith('[') ? `[${web.listen.host}]` : web.listen.host;
  return new URL(`${web.tls === undefined ? 'http' : 'https'}://${host}:${boundPort}/`);
}

/** Where the providers send the browser back. */
export function callbackUrlOf(web: WebConfig, boundPort?: number): URL {
  return new URL(CALLBACK_PATH, publicUrlOf(web, boundPort));
}
