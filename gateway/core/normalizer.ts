import { Value } from '@sinclair/typebox/value';
import type { TObject } from '@sinclair/typebox';
import {
  BarrierFieldsSchema,
  ProbeFieldsSchema,
  type CanonicalFields,
  type DeviceKind,
} from '../../drivers/contract/canonical.ts';

const SCHEMAS: Record<DeviceKind, TObject> = { barrier: BarrierFieldsSchema, probe: ProbeFieldsSchema };

export interface Normalized {
  fields: CanonicalFields;
  /** Fields dropped because they are not canonical for the kind or have the wrong type. */
  rejected: string[];
}

/**
 * The one gate between drivers and sinks: only canonical fields of the right type pass,
 * whatever a driver or a profile produced. Non-finite numbers (a NaN from a broken
 * sensor) are rejected too; InfluxDB would refuse the whole batch for one of them.
 */
export function normalize(kind: DeviceKind, fields: Record<string, unknown>): Normalized {
  const schema = SCHEMAS[kind];
  const out: Record<string, unknown> = {};
  const rejected: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const prop = schema.properties[key];
    if (value === undefined) continue;
    const ok =
      prop !== undefined && Value.Check(prop, value) && (typeof value !== 'number' || Number.isFinite(value));
    if (ok) out[key] = value;
    else rejected.push(key);
  }
  return { fields: out as CanonicalFields, rejected };
}
