/**
 * The consent pages' own HTTP(S) listener (`identity.web.listen`, loopback by default): a
 * fastify instance serving only the consent plugin under publicUrl's path. When the gateway's
 * one HTTP layer (src/http) serves them instead, this file is what moves there.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { publicUrlOf, type WebConfig } from './config.js';
import type { ConsentDeps } from './deps.js';
import type { FastifyInstance } from './fastify.js';
import { consentPages } from './plugin.js';
import type { WebResources } from './resources.js';

export interface ConsentServer {
  readonly app: FastifyInstance;
  readonly address: AddressInfo;
  /** Where a browser reaches the pages: publicUrl, or the bound address (port 0 resolved). */
  readonly url: URL;
  close(): Promise<void>;
}

export async function startConsentServer(web: WebConfig, resources: WebResources, deps: ConsentDeps): Promise<ConsentServer> {
  const app = Fastify({
    // No request log: it would carry the callback's code and state. The pages log what happened themselves.
    logger: false,
    trustProxy: web.trustedProxies.length > 0 ? [...web.trustedProxies] : false,
    return503OnClosing: true,
    ...(resources.tls !== undefined && { https: { cert: resources.tls.cert, key: resources.tls.key } }),
  }) as unknown as FastifyInstance;
  const prefix = publicUrlOf(web).pathname.replace(/\/+$/, '');
  await app.register(
    consentPages(deps, { secure: resources.secure, sessionKeys: resources.sessionKeys, sessionMinutes: web.sessionMinutes, signInLimit: web.signInLimit }),
    { prefix },
  );
  try {
    await app.listen({ host: web.listen.host, port: web.listen.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  return { app, address, url: publicUrlOf(web, address.port), close: () => app.close() };
}
