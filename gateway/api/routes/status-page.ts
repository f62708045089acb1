import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { ApiContext } from '../context.ts';
import { sourceDir } from '../../../drivers/contract/paths.ts';
import {
  BARRIER_FAULT,
  BARRIER_FAULT_WORDS,
  crewWords,
  HEALTH_REASONS,
} from '../../../drivers/contract/health.ts';
import { BARRIER_ACTION_WORDS } from '../../../drivers/contract/driver.ts';

const PAGE_DIR = path.resolve(sourceDir(import.meta.url), '../../../dashboards/status-page');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
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
});
export type Vocabulary = Static<typeof VocabularySchema>;

/** The words the status page shows, from the device contract: the page keeps no copy. */
export function vocabulary(): Vocabulary {
  const { prefix, param, pattern } = BARRIER_FAULT;
  return {
    healthReasons: Object.fromEntries(HEALTH_REASONS.map((r) => [r, crewWords(r)])),
    healthReasonFamilies: [{ prefix, param, pattern, words: BARRIER_FAULT_WORDS }],
    barrierActions: { ...BARRIER_ACTION_WORDS },
  };
}

/** The crew's status page: static files; the page itself reads the API with the crew's token. */
export const statusPageRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app) => {
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .type(FILES[name]!)
      .header('cache-control', 'no-cache')
      .send(await readFile(path.join(PAGE_DIR, name)));
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
