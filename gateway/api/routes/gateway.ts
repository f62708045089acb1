import { statfs } from 'node:fs/promises';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { SinkStatus } from '../../sinks/sink.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const SINK_STATUSES = [
  'connected',
  'spooling',
  'connecting',
  'disabled',
  'closed',
] as const satisfies readonly SinkStatus[];

export const GatewayViewSchema = Type.Object(
  {
    village: Type.String(),
    time: Type.String({ format: 'date-time' }),
    uptimeS: Count('seconds since the gateway process started'),
    storage: Type.Array(
      Type.Object({
        sink: Type.String({ description: 'the InfluxDB sink, by name' }),
        status: Type.Union(
          SINK_STATUSES.map((s) => Type.Literal(s)),
          {
            description:
              'connected: writing; spooling: InfluxDB unreachable or slow, points wait on disk; connecting: first contact',
          },
        ),
        spoolPoints: Count('points waiting in the disk spool'),
        spoolBytes: Count('bytes of the disk spool'),
        queuePoints: Count('points batched in memory or being written'),
        pointsWritten: Count('points InfluxDB accepted since the gateway started'),
        pointsDropped: Count('points lost since start: refused, unspoolable, or dropped from a full spool'),
      }),
    ),
    uplink: Type.Optional(
      Type.Object(
        {
          status: Type.Union([Type.Literal('connected'), Type.Literal('spooling'), Type.Literal('closed')], {
            description: 'spooling: the town broker is unreachable; messages queue on disk',
          }),
          queueBytes: Count('bytes queued on disk for the town broker'),
          inflight: Count('messages sent upstream, not yet acknowledged'),
          dropped: Count('messages dropped from a full queue since start'),
        },
        { description: 'the bridge to the town broker; absent when none is configured' },
      ),
    ),
    disk: Type.Optional(
      Type.Object(
        {
          freeBytes: Count('bytes free to the gateway'),
          sizeBytes: Count('size of the file system'),
          freePct: Type.Number({ minimum: 0, maximum: 100 }),
        },
        {
          description:
            'the file system of the data dir (spool, uplink queue, audit log, evidence); absent when it cannot be read',
        },
      ),
    ),
    broker: Type.Object({ clients: Count('MQTT clients connected to the village broker') }),
  },
  { description: "The gateway's own health: storage, uplink, disk, broker" },
);
export type GatewayView = Static<typeof GatewayViewSchema>;

const int = (v: number | undefined) => Math.max(0, Math.round(v ?? 0));

async function disk(dir: string): Promise<GatewayView['disk']> {
  try {
    const s = await statfs(dir);
    const sizeBytes = s.blocks * s.bsize;
    const freeBytes = s.bavail * s.bsize;
    return { freeBytes, sizeBytes, freePct: sizeBytes ? Math.round((freeBytes / sizeBytes) * 1000) / 10 : 0 };
  } catch {
    return undefined; // a data dir that vanished is reported by its absence, not a failed answer
  }
}

/** What the crew's strip shows of the gateway itself, from the sinks', bridge's and broker's own counters. */
export async function gatewayView(ctx: ApiContext): Promise<GatewayView> {
  const parts = ctx.gateway;
  // Storage is what keeps the readings: the sinks with a disk spool (InfluxDB), not the MQTT one.
  const storage = ctx.sinks
    .map((s) => ({ s, stats: s.stats() }))
    .filter(({ stats }) => 'spool_points' in stats)
    .map(({ s, stats }) => ({
      sink: s.name,
      status: s.status(),
      spoolPoints: int(stats.spool_points),
      spoolBytes: int(stats.spool_bytes),
      queuePoints: int(stats.queue_depth),
      pointsWritten: int(stats.points_written),
      pointsDropped: int(stats.points_dropped),
    }));
  const uplinkStats = parts.uplink?.stats();
  const space = await disk(parts.dataDir);
  return {
    village: ctx.village,
    time: new Date().toISOString(),
    uptimeS: int(process.uptime()),
    storage,
    ...(parts.uplink && uplinkStats
      ? {
          uplink: {
            status: parts.uplink.status(),
            queueBytes: int(uplinkStats.bridge_queue_bytes),
            inflight: int(uplinkStats.bridge_inflight),
            dropped: int(uplinkStats.bridge_dropped),
          },
        }
      : {}),
    ...(space ? { disk: space } : {}),
    broker: { clients: int(parts.brokerClients()) },
  };
}

export const gatewayRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/gateway',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['gateway'],
        operationId: 'getGateway',
        summary:
          "The gateway's own health: InfluxDB writing or spooling, the uplink, disk space, MQTT clients",
        security: [{ bearer: [] }],
        response: { 200: GatewayViewSchema, ...errors(...AUTH_ERRORS) },
      },
    },
    async () => gatewayView(ctx),
  );
};
