import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CachedSnapshot } from '../core/snapshots.ts';

/** A strong entity tag of some bytes. */
export const contentTag = (body: Buffer) =>
  `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;

/** True when the client already holds this picture (If-None-Match lists its tag, or `*`). */
export function holdsAlready(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/**
 * A cached picture with its validators: the browser may keep it until the probe's next
 * poll is due (`max-age`), then asks again with If-None-Match and gets a 304 while the
 * picture is the same. `private`: it is behind a token, no shared cache may keep it.
 */
export function sendSnapshot(req: FastifyRequest, reply: FastifyReply, shot: CachedSnapshot) {
  const maxAgeS = Math.max(0, Math.ceil((shot.freshUntil - Date.now()) / 1000));
  reply
    .header('etag', shot.etag)
    .header('cache-control', `private, max-age=${maxAgeS}`)
    .header('last-modified', new Date(shot.takenAt).toUTCString())
    .header('x-snapshot-time', new Date(shot.takenAt).toISOString())
    .header('x-luma', shot.luma.toFixed(1))
    .header('x-snapshot-ms', String(shot.ms));
  if (holdsAlready(req.headers['if-none-match'], shot.etag)) return reply.status(304).send();
  return reply.type(shot.contentType).send(shot.jpeg);
}
