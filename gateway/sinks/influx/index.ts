export { InfluxSink, type InfluxSinkOptions } from './influx-sink.ts';
export {
  InfluxSinkConfigSchema,
  InfluxSpoolConfigSchema,
  resolveInfluxSinkConfig,
  type InfluxSinkConfig,
  type InfluxSpoolConfig,
} from './config.ts';
export { toPoint, deviceTags, INTEGER_FIELDS, DOWNSAMPLED_MEASUREMENTS } from './points.ts';
export {
  serializePoint,
  seriesKey,
  fieldSet,
  escapeMeasurement,
  escapeTag,
  escapeStringField,
} from './line-protocol.ts';
export {
  ensureSchema,
  influxClient,
  downsampleSelect,
  continuousQueryName,
  RAW_RP,
  DOWNSAMPLED_RP,
} from './schema.ts';
export { Spool, type SpoolOptions, type SpoolRecord, type FsyncPolicy } from './spool.ts';
