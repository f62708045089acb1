import { Type, type Static } from '@sinclair/typebox';

/**
 * Health reasons are an enumerated vocabulary shared by drivers, logs, the API, MQTT
 * availability and InfluxDB, so a crew reads the same word everywhere.
 * `barrier-fault:<code>` carries the controller's own fault code.
 */
export const HEALTH_REASONS = [
  'timeout',
  'connection-refused',
  'crc-error',
  'illegal-address',
  'illegal-function',
  'auth-failed',
  'clock-skew',
  'stream-unreachable',
  'ir-fault',
  'bad-response',
  'port-unavailable',
  'not-polled-yet',
] as const;

export type BaseHealthReason = (typeof HEALTH_REASONS)[number];
export type HealthReason = BaseHealthReason | `barrier-fault:${string}`;

export const HealthStatusSchema = Type.Union([
  Type.Literal('online'),
  Type.Literal('degraded'),
  Type.Literal('offline'),
]);
export type HealthStatus = Static<typeof HealthStatusSchema>;

export const HealthSchema = Type.Object({
  status: HealthStatusSchema,
  reason: Type.Optional(Type.String({ description: 'one of the enumerated health reasons' })),
  detail: Type.Optional(Type.String()),
  since: Type.String({ format: 'date-time' }),
});

export interface Health {
  status: HealthStatus;
  reason?: HealthReason;
  /** Human words for the crew: what was seen, e.g. "no answer from unit 3 within 500 ms". */
  detail?: string;
  /** ISO time the status last changed. */
  since: string;
}

export function online(since = new Date()): Health {
  return { status: 'online', since: since.toISOString() };
}
