import type { FastifyRequest } from 'fastify';
import { secretMatches } from '../shared/secrets.js';

/**
 * Whether the request carries `Authorization: Bearer <token>`; never true for an empty token.
 * Compared as SHA-256 digests (secrets.ts): constant time whatever the length or the bytes sent.
 */
export function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return secretMatches(given, token);
}
