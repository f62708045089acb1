import { Validator } from '@seriousme/openapi-schema-validator';
import type * as FastifyModule from 'fastify';
import type { FastifyInstance, RouteOptions } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiContext } from '../../gateway/api/context.ts';
import { buildApi } from '../../gateway/api/server.ts';
import { commissioningRoutes } from '../../gateway/commissioning/routes.ts';
import { hashToken, TokenStore } from '../../gateway/credentials/tokens.ts';
import type { CommissioningTarget } from '../../gateway/commissioning/service.ts';

/**
 * The OpenAPI document at /docs/json is what client generators read: it must be valid
 * (checked by a validator that is not @fastify/swagger), name every route the server
 * has and none it lacks, and give each operation its parameters, body and answers.
 */

// Every route the API registers, as fastify's onRoute hook sees it: the hook goes on
// each instance as it is created, before any plugin adds a route.
const seen = vi.hoisted(() => [] as { method: string; url: string; hidden: boolean; body: boolean }[]);
vi.mock('fastify', async (importOriginal) => {
  const mod = await importOriginal<typeof FastifyModule>();
  const create = ((opts: unknown) => {
    const app = (mod.default as unknown as (o: unknown) => FastifyInstance)(opts);
    app.addHook('onRoute', (r: RouteOptions) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      const schema = r.schema as { hide?: boolean; body?: unknown } | undefined;
      const [hidden, body] = [Boolean(schema?.hide), schema?.body !== undefined];
      for (const method of methods) seen.push({ method: method.toUpperCase(), url: r.url, hidden, body });
    });
    return app;
  }) as unknown as typeof mod.default;
  return { ...mod, default: create };
});

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: { default?: unknown } }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** fastify's `/a/:id` as OpenAPI writes it, `/a/{id}`. */
const templated = (url: string) => url.replace(/:(\w+)/g, '{$1}');

let app: FastifyInstance;
let doc: Doc;
const operations: { method: string; path: string; op: Operation }[] = [];

beforeAll(async () => {
  const target: CommissioningTarget = {
    testDevice: () => Promise.reject(new Error('not in this test')),
    saveDevice: () => Promise.reject(new Error('not in this test')),
  };
  const ctx = { village: 'v', tokens: new TokenStore() } as unknown as ApiContext;
  app = await buildApi(ctx, pino({ level: 'silent' }), [commissioningRoutes(target)]);
  await app.ready();
  doc = (await app.inject('/docs/json')).json() as Doc;
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) operations.push({ method: method.toUpperCase(), path: p, op });
    }
  }
});
afterAll(() => app?.close());

describe('the OpenAPI document', () => {
  it('is valid OpenAPI, by an independent validator', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('documents every route the server has, and only those', () => {
    // Swagger UI's own pages and fastify's automatic HEAD routes are not the API.
    const served = seen.filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'));
    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((r) => r.hidden)).toEqual([]);
    const routes = new Set(served.map((r) => `${r.method} ${templated(r.url)}`));
    const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
    expect(
      [...routes].filter((r) => !documented.has(r)),
      'routes missing from /docs/json',
    ).toEqual([]);
    expect(
      [...documented].filter((d) => !routes.has(d)),
      'documented but not served',
    ).toEqual([]);
  });

  it('names each operation once, with a summary and a tag', () => {
    const ids = operations.map((o) => o.op.operationId);
    for (const { method, path: p, op } of operations) {
      expect(op.operationId, `${method} ${p}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary, `${method} ${p}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${p}`).toBeGreaterThan(0);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every operation a described success answer with a schema', () => {
    for (const { method, path: p, op } of operations) {
      const ok = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
      expect(ok.length, `${method} ${p}`).toBeGreaterThan(0);
      for (const [code, r] of Object.entries(op.responses)) {
        expect(r.description, `${method} ${p} ${code}`).not.toBe('Default Response');
        const media = Object.values(r.content ?? {});
        expect(media.length, `${method} ${p} ${code}: content`).toBeGreaterThan(0);
        for (const m of media) expect(m.schema, `${method} ${p} ${code}: schema`).toBeTruthy();
      }
    }
  });

  it('documents the errors: each route behind a token answers 401 and 403 with the error shape', () => {
    for (const { method, path: p, op } of operations.filter((o) => o.op.security?.length)) {
      for (const code of ['401', '403']) {
        const schema = op.responses[code]?.content?.['application/json']?.schema as
          { required?: string[] } | undefined;
        expect(schema?.required, `${method} ${p} ${code}`).toEqual([
          'statusCode',
          'code',
          'error',
          'message',
        ]);
      }
    }
  });

  it('declares path parameters, the request bodies routes validate, and optional defaulted query parameters', () => {
    for (const { method, path: p, op } of operations) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((x) => x.in === 'path');
      expect(declared.map((x) => x.name).sort(), `${method} ${p}`).toEqual(inPath.sort());
      for (const x of declared) expect(x.required, `${method} ${p} ${x.name}`).toBe(true);
      for (const x of (op.parameters ?? []).filter(
        (q) => q.in === 'query' && q.schema?.default !== undefined,
      ))
        expect(x.required, `${method} ${p} ?${x.name} has a default`).toBeFalsy();
      const takesBody = seen.some((r) => r.method === method && templated(r.url) === p && r.body);
      expect(Boolean(op.requestBody?.content?.['application/json']?.schema), `${method} ${p} body`).toBe(
        takesBody,
      );
    }
  });

  it('describes the snapshot as image/jpeg and the metrics as text', () => {
    const get = (p: string) => operations.find((o) => o.method === 'GET' && o.path === p)!.op;
    expect(Object.keys(get('/api/v1/probes/{id}/snapshot').responses['200']!.content!)).toEqual([
      'image/jpeg',
    ]);
    expect(Object.keys(get('/metrics').responses['200']!.content!)).toEqual(['text/plain']);
    const limit = get('/api/v1/commands').parameters!.find((x) => x.name === 'limit')!;
    expect(limit).toMatchObject({ in: 'query', schema: { default: 100 } });
    expect(limit.required).toBeFalsy();
  });

  it('still applies the default of an omitted query parameter', async () => {
    const seenLimits: unknown[] = [];
    const ctx = {
      village: 'v',
      tokens: new TokenStore([
        { name: 'r', role: 'reader', tokenHash: hashToken('reader-token-0123456789') },
      ]),
      commands: { list: (limit: unknown) => (seenLimits.push(limit), []) },
    } as unknown as ApiContext;
    const api = await buildApi(ctx, pino({ level: 'silent' }));
    const r = await api.inject({
      url: '/api/v1/commands',
      headers: { authorization: 'Bearer reader-token-0123456789' },
    });
    await api.close();
    expect(r.statusCode).toBe(200);
    expect(seenLimits).toEqual([100]);
  });
});
