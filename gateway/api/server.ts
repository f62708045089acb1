import type { SecureContextOptions } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Value } from '@sinclair/typebox/value';
import { ApiLimitsSchema } from '../config/schema.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { ApiContext } from './context.ts';
import { registerErrorHandling } from './errors.ts';
import { healthRoutes } from './routes/health.ts';
import { deviceRoutes } from './routes/devices.ts';
import { commandRoutes } from './routes/commands.ts';
import { statusPageRoutes } from './routes/status-page.ts';
import { siteRoutes } from './routes/sites.ts';
import { probeRoutes } from './routes/probes.ts';
import { gatewayRoutes } from './routes/gateway.ts';
import { whoamiRoutes } from './routes/whoami.ts';
import { eventStreamRoutes } from './routes/events-stream.ts';
import { adminRoutes } from './routes/admin.ts';
import { guardFailedAuth } from './limits.ts';
import { securityHeaders, DOCS_CSP } from './headers.ts';

export interface ApiPlugin {
  (app: FastifyInstance, ctx: ApiContext): Promise<void>;
}

/**
 * The HTTP API: small encapsulated plugins, a schema on every route (validation,
 * serialization and the OpenAPI document at /docs come from the same definitions).
 */
export async function buildApi(
  ctx: ApiContext,
  log: Logger,
  extra: ApiPlugin[] = [],
  /** With `https`, the API, the status page and MQTT over WebSocket are served over TLS. */
  opts: { https?: SecureContextOptions } = {},
): Promise<FastifyInstance> {
  const limits = Value.Default(ApiLimitsSchema, Value.Clone(ctx.limits ?? {})) as ApiContext['limits'] &
    object;
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerErrorHandling(app);
  await app.register(helmet, securityHeaders(opts.https !== undefined));
  await app.register(rateLimit, { global: false });
  guardFailedAuth(app as unknown as FastifyInstance, limits);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Gatehouse gateway API',
        description: `Village ${ctx.village}: devices, health and gate commands.`,
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  await app.register(healthRoutes, { ctx });
  await app.register(deviceRoutes, { ctx });
  await app.register(commandRoutes, { ctx: { ...ctx, limits } });
  await app.register(siteRoutes, { ctx });
  await app.register(probeRoutes, { ctx });
  await app.register(statusPageRoutes, { ctx });
  await app.register(gatewayRoutes, { ctx });
  await app.register(whoamiRoutes, { ctx });
  await app.register(eventStreamRoutes, { ctx });
  await app.register(adminRoutes, { ctx: { ...ctx, limits } });
  for (const plugin of extra) await app.register(async (child) => plugin(child, ctx));
  return app as unknown as FastifyInstance;
}
