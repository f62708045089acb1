import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
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
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerErrorHandling(app);
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
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { ctx });
  await app.register(deviceRoutes, { ctx });
  await app.register(commandRoutes, { ctx });
  await app.register(siteRoutes, { ctx });
  await app.register(probeRoutes, { ctx });
  await app.register(statusPageRoutes, { ctx });
  for (const plugin of extra) await app.register(async (child) => plugin(child, ctx));
  return app as unknown as FastifyInstance;
}
