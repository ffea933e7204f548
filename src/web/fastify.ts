/**
 * The fastify types the consent pages name. The gateway's HTTP layer (src/http, the admin API)
 * is the one module that names fastify: when the pages are served by it, this file re-exports
 * from there instead.
 */
export type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
