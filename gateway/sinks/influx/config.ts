import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Secret } from '../../../drivers/contract/secret.ts';
import { GatehouseError } from '../../errors.ts';

/**
 * The `influx` section of a village config. Defaults are in the schema so the config
 * loader's `Value.Default` fills them; `resolveInfluxSinkConfig` does the same for
 * callers that build a config in code. Without `url` the sink runs spool-only.
 */
export const InfluxSpoolConfigSchema = Type.Object(
  {
    maxBytes: Type.Integer({
      minimum: 1024,
      default: 512 * 1024 * 1024,
      description: 'total spool size; beyond it the oldest segment is dropped (counted and logged)',
    }),
    segmentBytes: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: 'a segment file rotates once it reaches this size',
    }),
    fsync: Type.Union([Type.Literal('always'), Type.Literal('interval'), Type.Literal('never')], {
      default: 'always',
      description:
        "'always': fsync after every batch appended (a batch is up to batchSize points); " +
        "'interval': fsync once a second; 'never': leave it to the OS",
    }),
  },
  { additionalProperties: false, default: {} },
);

export const InfluxSinkConfigSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ description: 'e.g. http://127.0.0.1:8086; absent = spool only' })),
    database: Type.String({ default: 'gatehouse', minLength: 1 }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Secret({ description: 'the resolved secret, never the YAML literal' })),
    batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
    flushIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
    maxQueuePoints: Type.Integer({
      minimum: 1,
      default: 50_000,
      description: 'points held in memory waiting for InfluxDB; beyond it batches go to the spool',
    }),
    spool: InfluxSpoolConfigSchema,
  },
  { additionalProperties: false },
);

export type InfluxSinkConfig = Static<typeof InfluxSinkConfigSchema>;

/**
 * Another InfluxDB the gateway writes to besides its own (the town's central one):
 * its own connection, batches and spool, so a village keeps its data whichever link
 * is down. `name` names its spool folder (`spool/influx-<name>`) and its sink in /metrics.
 */
export const InfluxTargetSchema = Type.Composite(
  [
    Type.Object({
      name: Type.String({
        pattern: '^[a-z0-9][a-z0-9_-]*$',
        maxLength: 32,
        description: 'short unique name, e.g. town',
      }),
    }),
    InfluxSinkConfigSchema,
  ],
  { additionalProperties: false },
);
export type InfluxTarget = Static<typeof InfluxTargetSchema>;
export type InfluxSpoolConfig = Static<typeof InfluxSpoolConfigSchema>;

/** Fill defaults into a partial config and check it; throws naming the first bad field. */
export function resolveInfluxSinkConfig(
  partial: Partial<Omit<InfluxSinkConfig, 'spool'>> & {
    spool?: Partial<InfluxSpoolConfig>;
  },
): InfluxSinkConfig {
  const value = Value.Default(InfluxSinkConfigSchema, structuredClone(partial));
  const err = Value.Errors(InfluxSinkConfigSchema, value).First();
  if (err) throw new GatehouseError('GH_CONFIG_INVALID', [`influx${err.path || ''}: ${err.message}`]);
  return value as InfluxSinkConfig;
}
