import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { contentTag, holdsAlready } from '../http-cache.ts';
import { sourceDir } from '../../../drivers/contract/paths.ts';
import {
  BARRIER_FAULT,
  BARRIER_FAULT_WORDS,
  crewWords,
  HEALTH_REASONS,
} from '../../../drivers/contract/health.ts';
import { BARRIER_ACTION_WORDS } from '../../../drivers/contract/driver.ts';
import { COMMAND_FAILURES } from '../../commands/failures.ts';

const PAGE_DIR = path.resolve(sourceDir(import.meta.url), '../../../dashboards/status-page');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'lanes.js': 'text/javascript; charset=utf-8',
  'strip.js': 'text/javascript; charset=utf-8',
  'gate.js': 'text/javascript; charset=utf-8',
  'thumbs.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
};

const Words = (what: string) => Type.Record(Type.String(), Type.String(), { description: what });

export const VocabularySchema = Type.Object({
  healthReasons: Words("each health reason with the crew's words: what it means — what to check"),
  healthReasonFamilies: Type.Array(
    Type.Object({
      prefix: Type.String({ description: 'reasons that start with this, e.g. barrier-fault:' }),
      param: Type.String({ description: 'the placeholder in words, e.g. code for {code}' }),
      pattern: Type.String({ description: 'regular expression of the whole reason' }),
      words: Type.String(),
    }),
  ),
  barrierActions: Words('each gate command with how it reads to a person'),
  commandFailures: Type.Array(
    Type.Object({
      reason: Type.String({ description: 'as people write it, e.g. interlock:barrier-fault:<code>' }),
      pattern: Type.String({ description: 'regular expression of the whole failure' }),
      words: Type.String({ description: 'what happened and what to do' }),
    }),
    { description: "why a gate command can fail, in the words the page shows after a command's end" },
  ),
});
export type Vocabulary = Static<typeof VocabularySchema>;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The words the status page shows, from the device contract: the page keeps no copy. */
export function vocabulary(): Vocabulary {
  const { prefix, param, pattern } = BARRIER_FAULT;
  return {
    healthReasons: Object.fromEntries(HEALTH_REASONS.map((r) => [r, crewWords(r)])),
    healthReasonFamilies: [{ prefix, param, pattern, words: BARRIER_FAULT_WORDS }],
    barrierActions: { ...BARRIER_ACTION_WORDS },
    commandFailures: COMMAND_FAILURES.map((f: TSchema) => ({
      reason: String(f.title),
      pattern: typeof f.const === 'string' ? `^${escapeRegExp(f.const)}$` : String(f.pattern),
      words: String(f.description),
    })),
  };
}

/** The crew's status page: static files; the page itself reads the API with the crew's token. */
export const statusPageRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app) => {
  // no-cache with an ETag: a phone asks each time and, on a weak link, gets a 304 rather than the page again.
  const send = (name: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = await readFile(path.join(PAGE_DIR, name));
    const etag = contentTag(body);
    reply.type(FILES[name]!).header('cache-control', 'no-cache').header('etag', etag);
    if (holdsAlready(req.headers['if-none-match'], etag)) return reply.status(304).send();
    return reply.send(body);
  };
  const page = (name: string, operationId: string) => ({
    schema: {
      tags: ['status page'],
      operationId,
      summary: `The status page's ${name}`,
      response: {
        200: {
          description: name,
          content: { [FILES[name]!.split(';')[0]!]: { schema: Type.String() } },
        },
      },
    },
  });
  app.get('/', page('index.html', 'getStatusPage'), send('index.html'));
  for (const name of Object.keys(FILES)) {
    const id = name.replace(/(?:^|\.)(\w)/g, (_, c: string) => c.toUpperCase());
    app.get(`/status/${name}`, page(name, `getStatusPage${id}`), send(name));
  }
  app.get(
    '/status/vocabulary.json',
    {
      schema: {
        tags: ['status page'],
        operationId: 'getVocabulary',
        summary: 'The words for every health reason and gate command, as the status page shows them',
        response: { 200: { ...VocabularySchema, description: 'The vocabulary' } },
      },
    },
    async (_req, reply) => reply.header('cache-control', 'no-cache').send(vocabulary()),
  );
};
