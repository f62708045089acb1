import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { discover } from '../../drivers/onvif/discovery.ts';
import { requireRole } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { AUTH_ERRORS, errors } from '../api/schemas.ts';
import type { ApiPlugin } from '../api/server.ts';
import { GatehouseError } from '../errors.ts';
import type { CommissioningTarget } from './service.ts';
import { ScanHitSchema } from './job-schemas.ts';
import { Jobs } from './jobs.ts';

const DiscoverBody = Type.Object(
  {
    cidr: Type.Optional(
      Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$', description: 'e.g. 10.0.5.0/24' }),
    ),
    hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 4096 })),
    multicastInterface: Type.Optional(
      Type.String({ description: 'local address of the camera-network NIC for a multicast probe' }),
    ),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'WS-Discovery port (3702)' }),
    ),
    httpPorts: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { maxItems: 8 })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 30_000 })),
  },
  { additionalProperties: false },
);

const DeviceBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'a device exactly as under devices: in the village YAML (secrets as { env } or { file })',
});

/** A camera that answered discovery; fields the driver adds later pass through. */
const DiscoveredSchema = Type.Object(
  {
    address: Type.String(),
    xaddrs: Type.Array(Type.String(), { description: 'ONVIF device service URLs' }),
    endpoint: Type.Optional(Type.String()),
    scopes: Type.Array(Type.String()),
    name: Type.Optional(Type.String()),
    hardware: Type.Optional(Type.String()),
    manufacturer: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    firmware: Type.Optional(Type.String()),
    serial: Type.Optional(Type.String()),
    auth: Type.String({ description: 'ok | failed | not-tried: the credentials given, checked' }),
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const JobSchema = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'discover or scan-modbus' }),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer(), found: Type.Integer() }),
  startedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  result: Type.Optional(
    Type.Union([
      Type.Array(DiscoveredSchema, { description: 'discover: the cameras found, once done' }),
      Type.Array(ScanHitSchema, { description: 'scan-modbus: the units that answered, once done' }),
    ]),
  ),
  error: Type.Optional(Type.String()),
});

const TestOutcomeSchema = Type.Object({
  ok: Type.Boolean(),
  ms: Type.Number({ description: 'how long the connect and the read took' }),
  fields: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'canonical fields read' })),
  reason: Type.Optional(Type.String({ description: 'the health reason when it failed' })),
  detail: Type.Optional(Type.String()),
});

const SavedSchema = Type.Object(
  {
    id: Type.String(),
    savedTo: Type.Optional(Type.String({ description: 'the config file it was written to' })),
  },
  { description: 'Added: polling and saved' },
);

/**
 * Installer endpoints: discover cameras (a job with progress), test a device
 * definition against the real device without saving it, then save it: it is checked
 * by the same schema as the YAML, starts polling at once and is written to the config.
 */
export function commissioningRoutes(target: CommissioningTarget, jobs = new Jobs()): ApiPlugin {
  return async (app: FastifyInstance, ctx: ApiContext) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    const admin = requireRole(ctx.tokens, 'admin');

    r.post(
      '/api/v1/commissioning/discover',
      {
        preHandler: admin,
        schema: {
          tags: ['commissioning'],
          operationId: 'startDiscovery',
          summary: 'Find ONVIF cameras: multicast on a named interface and/or a unicast scan; returns a job',
          security: [{ bearer: [] }],
          body: DiscoverBody,
          response: {
            202: { ...JobSchema, description: 'Started; GET the Location header for its progress' },
            ...errors(400, ...AUTH_ERRORS, 413),
          },
        },
      },
      async (req, reply) => {
        const b = req.body;
        if (!b.cidr && !b.hosts?.length && !b.multicastInterface) {
          throw new GatehouseError('GH_API_BAD_REQUEST', [
            'give cidr, hosts or multicastInterface (or several)',
          ]);
        }
        const job = jobs.start('discover', (progress) =>
          discover({
            ...b,
            multicast: Boolean(b.multicastInterface),
            onProgress: progress,
          }),
        );
        return reply.status(202).header('location', `/api/v1/commissioning/jobs/${job.id}`).send(job);
      },
    );

    r.get(
      '/api/v1/commissioning/jobs/:id',
      {
        preHandler: admin,
        schema: {
          tags: ['commissioning'],
          operationId: 'getCommissioningJob',
          summary: 'A commissioning job: progress (done/total/found) and, when done, its result',
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String() }),
          response: { 200: { ...JobSchema, description: 'The job' }, ...errors(...AUTH_ERRORS, 404) },
        },
      },
      async (req) => {
        const job = jobs.get(req.params.id);
        if (!job) throw new GatehouseError('GH_API_NOT_FOUND', [`no job with id "${req.params.id}"`]);
        return job;
      },
    );

    r.post(
      '/api/v1/commissioning/test',
      {
        preHandler: admin,
        schema: {
          tags: ['commissioning'],
          operationId: 'testDevice',
          summary: 'Connect to a device as defined and read it once; nothing is saved',
          security: [{ bearer: [] }],
          body: DeviceBody,
          response: {
            200: {
              ...TestOutcomeSchema,
              description: 'What the device answered (ok false with a reason if not)',
            },
            ...errors(400, ...AUTH_ERRORS, 413),
          },
        },
      },
      async (req) => target.testDevice(req.body),
    );

    r.post(
      '/api/v1/commissioning/devices',
      {
        preHandler: admin,
        schema: {
          tags: ['commissioning'],
          operationId: 'addDevice',
          summary: 'Add a device: validated, polled at once, and saved to the village config file',
          security: [{ bearer: [] }],
          body: DeviceBody,
          response: { 201: SavedSchema, ...errors(400, ...AUTH_ERRORS, 413) },
        },
      },
      async (req, reply) => reply.status(201).send(await target.saveDevice(req.body)),
    );
  };
}
