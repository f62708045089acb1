import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/app.ts';
import { parseVillageConfig } from '../../gateway/config/sections.ts';
import { hashToken } from '../../gateway/credentials/tokens.ts';
import { createLogger } from '../../gateway/logger.ts';
import { TIMEOUT_MS, fcOptions } from './runs.ts';

// Hostile HTTP against the real API of a real gateway built in this process (broker,
// command service, state; API and broker on port 0; fastify's inject, no sockets):
// bodies, query strings and headers from generators, on every route the OpenAPI
// document names. Every answer is a 2xx/3xx or a 4xx with a message; never a 5xx.
// Commissioning jobs (discovery scans, Modbus scans) are left out: a valid random
// body would start a network scan, and the suite's network is loopback only.

const TOKEN = 'fuzz-admin-token-0123456789';
const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fuzz-api-'));
let gw: Gateway;
let routes: { method: string; url: string }[] = [];

beforeAll(async () => {
  const yaml = `village: fuzzville
devices:
  - { id: east-gate, kind: barrier, driver: mqtt, profile: lumen-gate-mqtt, lane: lane-1 }
evidence: { enabled: false }
# The rate limits would answer 429 to nearly every case: raised, so the routes themselves are exercised.
api: { limits: { failedAuth: 1000000, commandsPerToken: 1000000, commandsPerAddress: 1000000 } }
`;
  const { config } = parseVillageConfig(yaml, path.join(dir, 'village.yaml'));
  gw = await Gateway.start({
    config,
    log: createLogger({ level: 'silent' }),
    tokens: [{ name: 'admin', role: 'admin', tokenHash: hashToken(TOKEN) }],
    apiPort: 0,
    apiHost: '127.0.0.1',
    mqttPort: 0,
    dataDir: path.join(dir, 'data'),
  });
  const doc = (await gw.api.inject({ url: '/docs/json' })).json() as { paths: Record<string, object> };
  routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.keys(ops)
      .filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
      .map((m) => ({ method: m.toUpperCase(), url: p }))
      .filter((r) => !(r.url.startsWith('/api/v1/commissioning') && r.method !== 'GET'))
      .filter((r) => !/events-stream|\/live|\/stream/.test(r.url)),
  );
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const segment = fc.oneof(
  fc.constantFrom('east-gate', 'barrier-1', 'nope', '..', '%2e%2e', '%00', 'a'.repeat(300), '%ZZ', '😀', ''),
  fc.stringMatching(/^[\w%.~-]{0,20}$/),
);
const query = fc.dictionary(
  fc.constantFrom(
    'waitMs',
    'limit',
    'since',
    'device',
    'kind',
    'status',
    'token',
    'x',
    '__proto__',
    'constructor',
  ),
  fc.oneof(
    fc.constantFrom('-1', '1e309', 'NaN', '60000', '99999999999', '[]', '{}', ''),
    fc.string({ maxLength: 12 }),
  ),
  { maxKeys: 3 },
);
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      requestId: fc.oneof(fc.string({ maxLength: 80 }), fc.integer()),
      action: fc.oneof(
        fc.constantFrom('open', 'close', 'hold-open', 'release', 'stop', 'reset-fault', 'explode'),
        fc.string(),
      ),
      reason: fc.oneof(fc.string({ maxLength: 300 }), fc.constant(null)),
      mode: fc.constantFrom('on', 'off', 'auto', 'bright'),
      __proto__: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  jsonBody.map((v) => ({ type: 'application/json', payload: JSON.stringify(v) })),
  fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/json', payload: s })),
  fc.string({ maxLength: 100 }).map((s) => ({
    type: fc.sample(
      fc.constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-7',
        '*/*',
        '',
      ),
      1,
    )[0]!,
    payload: s,
  })),
  fc.constant({ type: 'application/json', payload: '{"a":' + '['.repeat(5000) }),
);
const auth = fc.oneof(
  fc.constant(`Bearer ${TOKEN}`),
  fc.constant(`Bearer ${TOKEN}`),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from('a:b').toString('base64')}`,
    `bearer ${TOKEN}`,
    `Bearer ${TOKEN}x`,
  ),
  fc.string({ maxLength: 60 }),
);
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'accept',
    'accept-encoding',
    'x-forwarded-for',
    'origin',
    'if-none-match',
    'range',
    'x-request-id',
    'content-encoding',
    'last-event-id',
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
  { maxKeys: 3 },
);

describe('API against hostile requests (in-process gateway, fastify inject)', { timeout: TIMEOUT_MS }, () => {
  it(
    'never a 5xx; every 4xx carries a message',
    async () => {
      expect(routes.length).toBeGreaterThan(10);
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.nat(),
          fc.array(segment, { minLength: 1, maxLength: 3 }),
          query,
          fc.option(body, { nil: undefined }),
          auth,
          extraHeaders,
          async (r, segs, q, b, authorization, headers) => {
            const route = routes[r % routes.length]!;
            let i = 0;
            const url = route.url.replace(/\{[^}]+\}/g, () =>
              encodeURIComponent(segs[i++ % segs.length]!).replace(/%25/g, '%'),
            );
            const qs = new URLSearchParams(q as Record<string, string>).toString();
            const res = await gw.api.inject({
              method: route.method as 'GET',
              url: qs ? `${url}?${qs}` : url,
              headers: { ...headers, authorization, ...(b ? { 'content-type': b.type } : {}) },
              ...(b && route.method !== 'GET' ? { payload: b.payload } : {}),
            });
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            expect(res.statusCode, `${route.method} ${url}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
            if (res.statusCode >= 400) {
              const doc = JSON.parse(res.body) as { message?: unknown };
              expect(typeof doc.message, res.body).toBe('string');
              expect((doc.message as string).length).toBeGreaterThan(0);
            }
          },
        ),
        fcOptions(),
      );
      console.log(`API fuzz: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    },
    TIMEOUT_MS,
  );
});
