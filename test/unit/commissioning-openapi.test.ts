import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../gateway/api/context.ts';
import { buildApi } from '../../gateway/api/server.ts';
import { Jobs } from '../../gateway/commissioning/jobs.ts';
import { manageRoutes } from '../../gateway/commissioning/manage-routes.ts';
import { commissioningRoutes } from '../../gateway/commissioning/routes.ts';
import type { CommissioningChanges, CommissioningTarget } from '../../gateway/commissioning/service.ts';

// The commissioning routes that change a running village, as a client generator reads
// them: a valid document, each operation named, with a body or parameters as it takes
// them, its success answer and the errors it can give (500 when the file cannot be saved).

type Operation = {
  operationId?: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};
let app: FastifyInstance;
let paths: Record<string, Record<string, Operation>>;
let doc: unknown;

beforeAll(async () => {
  const no = () => Promise.reject(new Error('not in this test'));
  const target: CommissioningTarget & CommissioningChanges = {
    testDevice: no,
    saveDevice: no,
    changeDevice: no,
    removeDevice: no,
    buses: {
      list: () => [],
      add: no,
      remove: no,
      sweep: () => no,
    } as unknown as CommissioningChanges['buses'],
  };
  const jobs = new Jobs();
  const ctx = { village: 'v', tokens: [] } as unknown as ApiContext;
  app = await buildApi(ctx, pino({ level: 'silent' }), [
    commissioningRoutes(target, jobs),
    manageRoutes(target, jobs),
  ]);
  await app.ready();
  doc = (await app.inject('/docs/json')).json();
  paths = (doc as { paths: typeof paths }).paths;
});
afterAll(() => app.close());

describe('the OpenAPI document of live commissioning', () => {
  it('is valid OpenAPI', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
  });

  it('documents each change with its answers', () => {
    const expected: [string, string, string, string[]][] = [
      [
        '/api/v1/commissioning/devices/{id}',
        'put',
        'changeDevice',
        ['200', '400', '401', '403', '404', '409', '413', '429', '500'],
      ],
      [
        '/api/v1/commissioning/devices/{id}',
        'delete',
        'removeDevice',
        ['200', '401', '403', '404', '409', '429', '500'],
      ],
      ['/api/v1/commissioning/buses', 'get', 'listBuses', ['200', '401', '403', '429']],
      [
        '/api/v1/commissioning/buses',
        'post',
        'addBus',
        ['201', '400', '401', '403', '409', '413', '429', '500'],
      ],
      [
        '/api/v1/commissioning/buses/{id}',
        'delete',
        'removeBus',
        ['200', '401', '403', '404', '409', '429', '500'],
      ],
      [
        '/api/v1/commissioning/buses/{id}/scan',
        'post',
        'startBusScan',
        ['202', '400', '401', '403', '404', '409', '413', '429'],
      ],
    ];
    for (const [p, method, id, codes] of expected) {
      const op = paths[p]?.[method];
      expect(op?.operationId, `${method} ${p}`).toBe(id);
      expect(Object.keys(op!.responses).sort()).toEqual(codes.sort());
      for (const [code, r] of Object.entries(op!.responses))
        expect(r.content?.['application/json']?.schema, `${id} ${code}`).toBeTruthy();
    }
  });

  it('lets GET …/jobs/:id answer a sweep as well as a discovery', () => {
    const job = paths['/api/v1/commissioning/jobs/{id}']!.get!.responses['200']!.content!['application/json']!
      .schema as { properties: { result: { anyOf: { items: { required?: string[] } }[] } } };
    const kinds = job.properties.result.anyOf.map((s) => s.items.required ?? []);
    expect(kinds.some((r) => r.includes('xaddrs'))).toBe(true);
    expect(kinds.some((r) => r.includes('unit') && r.includes('profiles'))).toBe(true);
  });
});
