import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { AUTH_ERRORS, errors } from '../api/schemas.ts';
import type { ApiPlugin } from '../api/server.ts';
import type { Jobs } from './jobs.ts';
import { ScanJobSchema } from './job-schemas.ts';
import type { CommissioningChanges } from './service.ts';

const DeviceBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'the whole device as under devices: in the village YAML (secrets as { env } or { file }); `id` may be left out',
});

const BusBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'a bus exactly as under buses: in the village YAML (type rtu, tcp or rtu-over-tcp)',
});

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const SavedSchema = Type.Object(
  {
    id: Type.String(),
    savedTo: Type.Optional(Type.String({ description: 'the config file the change was written to' })),
  },
  { description: 'Done: live now, and in the config file when the gateway has one' },
);

const BusViewSchema = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'rtu, tcp or rtu-over-tcp' }),
  settings: Type.Record(Type.String(), Type.Unknown(), { description: 'the bus as loaded, defaults filled' }),
  devices: Type.Array(Type.String(), { description: 'ids of the devices on this bus' }),
});

const ScanBody = Type.Object(
  {
    units: Type.String({
      default: '1-247',
      pattern: '^\\s*\\d+(-\\d+)?(\\s*,\\s*\\d+(-\\d+)?)*\\s*$',
      description: 'unit ids to try: a range and/or a list, e.g. 1-247 or 1,2,5-9',
    }),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 20, maximum: 2000, description: 'wait per unit (default 150 ms)' }),
    ),
  },
  { additionalProperties: false },
);

/** Why a change was refused or not saved: every one leaves the running gateway as it was. */
const CHANGE_ERRORS = errors(400, ...AUTH_ERRORS, 404, 409, 413, 500);

/**
 * Changing a running village: devices changed or removed, buses added or removed, and
 * buses swept for Modbus units (a job, watched at GET …/jobs/:id). Each change is live at
 * once and saved to the config file; a change that cannot be saved is not made.
 */
export function manageRoutes(target: CommissioningChanges, jobs: Jobs): ApiPlugin {
  return async (app: FastifyInstance, ctx: ApiContext) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    const admin = requireRole(ctx.tokens, 'admin');
    const base = { tags: ['commissioning'], security: [{ bearer: [] }] };

    r.put(
      '/api/v1/commissioning/devices/:id',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'changeDevice',
          summary: 'Change a device: the new definition replaces the old one, live and in the config file',
          params: Id,
          body: DeviceBody,
          response: { 200: SavedSchema, ...CHANGE_ERRORS },
        },
      },
      async (req) => target.changeDevice(req.params.id, req.body),
    );

    r.delete(
      '/api/v1/commissioning/devices/:id',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'removeDevice',
          summary: 'Remove a device: polling stops, its state goes, and it leaves the config file',
          params: Id,
          response: { 200: SavedSchema, ...errors(...AUTH_ERRORS, 404, 409, 500) },
        },
      },
      async (req) => target.removeDevice(req.params.id),
    );

    r.get(
      '/api/v1/commissioning/buses',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'listBuses',
          summary: 'The buses of the running gateway, with the devices on each',
          response: { 200: Type.Object({ buses: Type.Array(BusViewSchema) }), ...errors(...AUTH_ERRORS) },
        },
      },
      async () => ({ buses: target.buses.list() }),
    );

    r.post(
      '/api/v1/commissioning/buses',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'addBus',
          summary: 'Add a bus: usable by devices at once, and saved to the config file',
          body: BusBody,
          response: { 201: SavedSchema, ...errors(400, ...AUTH_ERRORS, 409, 413, 500) },
        },
      },
      async (req, reply) => reply.status(201).send(await target.buses.add(req.body)),
    );

    r.delete(
      '/api/v1/commissioning/buses/:id',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'removeBus',
          summary: 'Remove a bus no device is on: its line is closed and it leaves the config file',
          params: Id,
          response: { 200: SavedSchema, ...errors(...AUTH_ERRORS, 404, 409, 500) },
        },
      },
      async (req) => target.buses.remove(req.params.id),
    );

    r.post(
      '/api/v1/commissioning/buses/:id/scan',
      {
        preHandler: admin,
        schema: {
          ...base,
          operationId: 'startBusScan',
          summary:
            'Sweep a Modbus bus for answering units and recognise each by its profile signature; returns a job',
          params: Id,
          body: ScanBody,
          response: {
            202: { ...ScanJobSchema, description: 'Started; GET the Location header for its progress' },
            ...errors(400, ...AUTH_ERRORS, 404, 409, 413),
          },
        },
      },
      async (req, reply) => {
        const work = target.buses.sweep(req.params.id, req.body.units, req.body.timeoutMs);
        const job = jobs.start('scan-modbus', work);
        return reply.status(202).header('location', `/api/v1/commissioning/jobs/${job.id}`).send(job);
      },
    );
  };
}
