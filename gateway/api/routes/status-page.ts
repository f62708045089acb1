import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { ApiContext } from '../context.ts';
import { sourceDir } from '../../../drivers/contract/paths.ts';

const PAGE_DIR = path.resolve(sourceDir(import.meta.url), '../../../dashboards/status-page');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
};

/** The crew's status page: static files; the page itself reads the API with the crew's token. */
export const statusPageRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app) => {
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) =>
    reply
      .type(FILES[name]!)
      .header('cache-control', 'no-cache')
      .send(await readFile(path.join(PAGE_DIR, name)));
  app.get('/', { schema: { hide: true } }, send('index.html'));
  for (const name of Object.keys(FILES)) app.get(`/status/${name}`, { schema: { hide: true } }, send(name));
};
