import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject, TSchema } from '@sinclair/typebox';
import {
  BarrierFieldsSchema,
  ProbeFieldsSchema,
  type CanonicalFields,
  type DeviceKind,
} from '../../drivers/contract/canonical.ts';

/** Each canonical field's check, compiled once: normalize runs on every poll of every device. */
const CHECKS: Record<DeviceKind, Map<string, TypeCheck<TSchema>>> = {
  barrier: compileFields(BarrierFieldsSchema),
  probe: compileFields(ProbeFieldsSchema),
};

function compileFields(schema: TObject): Map<string, TypeCheck<TSchema>> {
  return new Map(Object.entries(schema.properties).map(([key, prop]) => [key, TypeCompiler.Compile(prop)]));
}

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
  const checks = CHECKS[kind];
  const out: Record<string, unknown> = {};
  const rejected: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const check = checks.get(key);
    if (value === undefined) continue;
    const ok =
      check !== undefined && check.Check(value) && (typeof value !== 'number' || Number.isFinite(value));
    if (ok) out[key] = value;
    else rejected.push(key);
  }
  return { fields: out as CanonicalFields, rejected };
}

const NONE: readonly string[] = [];

/** Of the fields a driver says it has no reading of, those canonical for the kind. */
export function canonicalNames(kind: DeviceKind, names: readonly string[] | undefined): readonly string[] {
  if (!names?.length) return NONE; // nearly every poll: no array made for it
  const checks = CHECKS[kind];
  return names.filter((n) => checks.has(n));
}
